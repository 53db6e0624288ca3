#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_registry.h"
#include "registry/registry.h"

static int death_register(int argc, char **argv);
static int death_show(int argc, char **argv);

static const struct cli_command death_commands[] = {
    { "register", death_register, "register the death of a person",
      "usage: civreg death register UIN --date YYYY-MM-DD --locality L --district D\n"
      "           --informant NAME [--place-type facility|home|other] [--facility F]\n"
      "           [--time HH:MM] [--cause-ref REF] [--certifier NAME]\n"
      "           [--relationship R] [--informant-address A]\n"
      "           [--registration-date YYYY-MM-DD] [--remarks TEXT]\n"
      "           [--json] [--data DIR] --user REGISTRAR [--password-file F]\n"
      "\n"
      "Registers the death of person UIN (a registrar): date and place of death,\n"
      "the reference of the medical certificate of cause of death (the cause itself\n"
      "is not kept), the informant and the date of registration (default today).\n"
      "With --json the fields are read as one JSON object from stdin instead (after\n"
      "the password line when there is no --password-file); see docs/extracts.md.\n"
      "Prints {id, registration_number, uin, date_of_death, hash, event}. The person\n"
      "then shows as deceased everywhere, and passport enrolment refuses them.\n" },
    { "show", death_show, "show a registered death",
      "usage: civreg death show UIN|DEATH-NUMBER [--data DIR] --user U [--password-file F]\n" },
    { NULL, NULL, NULL, NULL },
};

int cmd_death(int argc, char **argv)
{
    return cli_dispatch("death", death_commands, argc, argv);
}

static int set_path(json_t *root, const char *sec, const char *key, const char *v)
{
    json_t *o;

    if (v == NULL)
        return 0;
    if (sec == NULL)
        return json_object_set_new(root, key, json_string(v));
    o = json_object_get(root, sec);
    if (o == NULL) {
        if ((o = json_object()) == NULL || json_object_set_new(root, sec, o) != 0)
            return -1;
    }
    return json_object_set_new(o, key, json_string(v));
}

static int death_register(int argc, char **argv)
{
    enum {
        O_DATE = 256, O_LOCALITY, O_DISTRICT, O_INFORMANT, O_PTYPE, O_FACILITY, O_TIME,
        O_CAUSE, O_CERTIFIER, O_REL, O_IADDR, O_REGDATE, O_REMARKS, O_JSON,
    };
    static const struct option longopts[] = {
        { "data", required_argument, NULL, 'd' },
        { "user", required_argument, NULL, 'U' },
        { "password-file", required_argument, NULL, 'p' },
        { "date", required_argument, NULL, O_DATE },
        { "locality", required_argument, NULL, O_LOCALITY },
        { "district", required_argument, NULL, O_DISTRICT },
        { "informant", required_argument, NULL, O_INFORMANT },
        { "place-type", required_argument, NULL, O_PTYPE },
        { "facility", required_argument, NULL, O_FACILITY },
        { "time", required_argument, NULL, O_TIME },
        { "cause-ref", required_argument, NULL, O_CAUSE },
        { "certifier", required_argument, NULL, O_CERTIFIER },
        { "relationship", required_argument, NULL, O_REL },
        { "informant-address", required_argument, NULL, O_IADDR },
        { "registration-date", required_argument, NULL, O_REGDATE },
        { "remarks", required_argument, NULL, O_REMARKS },
        { "json", no_argument, NULL, O_JSON },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *data = NULL, *user = NULL, *pwfile = NULL;
    const char *v[O_JSON - O_DATE] = { NULL };
    bool from_json = false;
    struct cli_session s;
    struct err err = ERR_INIT;
    json_t *death = NULL, *out = NULL;
    int c, rc;

    optind = 0;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': data = optarg; break;
        case 'U': user = optarg; break;
        case 'p': pwfile = optarg; break;
        case O_JSON: from_json = true; break;
        case 'h': return cli_help(&death_commands[0]);
        default:
            if (c >= O_DATE && c < O_JSON) {
                v[c - O_DATE] = optarg;
                break;
            }
            return cli_usage_error("death register", "invalid option");
        }
    }
    if (optind + 1 != argc)
        return cli_usage_error("death register", "exactly one UIN is required");
    if (!from_json && (v[O_DATE - O_DATE] == NULL || v[O_LOCALITY - O_DATE] == NULL ||
                       v[O_DISTRICT - O_DATE] == NULL || v[O_INFORMANT - O_DATE] == NULL))
        return cli_usage_error("death register",
                               "--date, --locality, --district and --informant are required "
                               "(or --json)");
    if ((rc = cli_session_open("death register", data, user, pwfile, true, &s)) != 0)
        return rc;
    if (from_json) {
        if (cli_stdin_json(&death, &err) != 0) {
            rc = cli_fail("death register", &err);
            goto out;
        }
    } else if ((death = json_object()) == NULL ||
               set_path(death, NULL, "date_of_death", v[O_DATE - O_DATE]) != 0 ||
               set_path(death, NULL, "time_of_death", v[O_TIME - O_DATE]) != 0 ||
               set_path(death, "place", "type",
                        v[O_PTYPE - O_DATE] ? v[O_PTYPE - O_DATE]
                        : v[O_FACILITY - O_DATE] ? "facility" : "other") != 0 ||
               set_path(death, "place", "facility", v[O_FACILITY - O_DATE]) != 0 ||
               set_path(death, "place", "locality", v[O_LOCALITY - O_DATE]) != 0 ||
               set_path(death, "place", "district", v[O_DISTRICT - O_DATE]) != 0 ||
               set_path(death, "cause_certificate", "reference", v[O_CAUSE - O_DATE]) != 0 ||
               set_path(death, "cause_certificate", "certifier", v[O_CERTIFIER - O_DATE]) != 0 ||
               set_path(death, "informant", "name", v[O_INFORMANT - O_DATE]) != 0 ||
               set_path(death, "informant", "relationship", v[O_REL - O_DATE]) != 0 ||
               set_path(death, "informant", "address", v[O_IADDR - O_DATE]) != 0 ||
               set_path(death, NULL, "registration_date", v[O_REGDATE - O_DATE]) != 0 ||
               set_path(death, NULL, "remarks", v[O_REMARKS - O_DATE]) != 0) {
        err_set(&err, "out of memory");
        rc = cli_fail("death register", &err);
        goto out;
    }
    if (registry_death_register(s.db, s.actor, argv[optind], death, &out, &err) != 0)
        rc = cli_fail("death register", &err);
    else
        rc = cli_print_json(out);
out:
    json_decref(death);
    json_decref(out);
    cli_session_close(&s);
    return rc;
}

static int death_show(int argc, char **argv)
{
    return cli_show_one("death show", &death_commands[1], "UIN or death number",
                        registry_death_show, argc, argv);
}
