#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_registry.h"
#include "registry/registry.h"

static cli_run_fn person_show;

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
    return cli_show_one("person show", &person_commands[0], "UIN", registry_person_show, argc,
                        argv);
}
