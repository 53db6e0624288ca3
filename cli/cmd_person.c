#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_registry.h"
#include "registry/registry.h"

static int person_show(int argc, char **argv);

static const struct cli_command person_commands[] = {
    { "show", person_show, "show a person by identification number",
      "usage: civreg person show UIN [--data DIR] --user U [--password-file F]\n"
      "\n"
      "Prints the person, their birth record (current version) and every signed\n"
      "link statement with its signature checked, as JSON.\n" },
    { NULL, NULL, NULL, NULL },
};

int cmd_person(int argc, char **argv)
{
    return cli_dispatch("person", person_commands, argc, argv);
}

static int person_show(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "data", required_argument, NULL, 'd' },
        { "user", required_argument, NULL, 'U' },
        { "password-file", required_argument, NULL, 'p' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *data = NULL, *user = NULL, *pwfile = NULL;
    struct cli_session s;
    struct err err = ERR_INIT;
    json_t *out = NULL;
    int c, rc;

    optind = 0;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': data = optarg; break;
        case 'U': user = optarg; break;
        case 'p': pwfile = optarg; break;
        case 'h': return cli_help(&person_commands[0]);
        default: return cli_usage_error("person show", "invalid option");
        }
    }
    if (optind + 1 != argc)
        return cli_usage_error("person show", "exactly one UIN is required");
    if ((rc = cli_session_open("person show", data, user, pwfile, true, &s)) != 0)
        return rc;
    if (registry_person_show(s.db, s.actor, argv[optind], &out, &err) != 0)
        rc = cli_fail("person show", &err);
    else
        rc = cli_print_json(out);
    json_decref(out);
    cli_session_close(&s);
    return rc;
}
