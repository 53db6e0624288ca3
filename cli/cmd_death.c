#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_registry.h"
#include "registry/registry.h"

static cli_run_fn death_register, death_show;

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

struct death_opts {
    struct cli_common_opts common;
    const char *date, *locality, *district, *informant, *place_type, *facility, *time,
        *cause_ref, *certifier, *relationship, *informant_address, *registration_date,
        *remarks;
    bool json;
};

#define DEATH_STR(name, field, arg) CLI_OPT_STR(name, struct death_opts, field, "register", arg)
static const struct cli_opt death_options[] = {
    DEATH_STR("date", date, "YYYY-MM-DD"),
    DEATH_STR("locality", locality, "L"),
    DEATH_STR("district", district, "D"),
    DEATH_STR("informant", informant, "NAME"),
    DEATH_STR("place-type", place_type, "facility|home|other"),
    DEATH_STR("facility", facility, "F"),
    DEATH_STR("time", time, "HH:MM"),
    DEATH_STR("cause-ref", cause_ref, "REF"),
    DEATH_STR("certifier", certifier, "NAME"),
    DEATH_STR("relationship", relationship, "R"),
    DEATH_STR("informant-address", informant_address, "A"),
    DEATH_STR("registration-date", registration_date, "YYYY-MM-DD"),
    DEATH_STR("remarks", remarks, "TEXT"),
    CLI_OPT_FLAG("json", struct death_opts, json, "register"),
    CLI_OPT_END,
};

static const struct cli_family death_family = { "death", death_commands, death_options, "*",
                                                "*" };

int cmd_death(int argc, char **argv)
{
    return cli_family_dispatch(&death_family, argc, argv);
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

static int do_register(struct cli_session *s, const void *opts, json_t **out, struct err *err)
{
    const struct death_opts *o = opts;
    json_t *death = NULL;
    int rc;

    if (o->json) {
        if (cli_stdin_json(&death, err) != 0)
            return -1;
    } else if ((death = json_object()) == NULL ||
               set_path(death, NULL, "date_of_death", o->date) != 0 ||
               set_path(death, NULL, "time_of_death", o->time) != 0 ||
               set_path(death, "place", "type",
                        o->place_type ? o->place_type : o->facility ? "facility" : "other") != 0 ||
               set_path(death, "place", "facility", o->facility) != 0 ||
               set_path(death, "place", "locality", o->locality) != 0 ||
               set_path(death, "place", "district", o->district) != 0 ||
               set_path(death, "cause_certificate", "reference", o->cause_ref) != 0 ||
               set_path(death, "cause_certificate", "certifier", o->certifier) != 0 ||
               set_path(death, "informant", "name", o->informant) != 0 ||
               set_path(death, "informant", "relationship", o->relationship) != 0 ||
               set_path(death, "informant", "address", o->informant_address) != 0 ||
               set_path(death, NULL, "registration_date", o->registration_date) != 0 ||
               set_path(death, NULL, "remarks", o->remarks) != 0) {
        json_decref(death);
        return err_set(err, "out of memory");
    }
    rc = registry_death_register(s->db, s->actor, o->common.args[0], death, out, err);
    json_decref(death);
    return rc;
}

static int death_register(int argc, char **argv)
{
    struct death_opts o = { 0 };
    int rc;

    if ((rc = cli_parse(&death_family, "register", &o, argc, argv, 1, 1, "exactly one UIN")) !=
        CLI_GO)
        return rc;
    if (!o.json && (o.date == NULL || o.locality == NULL || o.district == NULL ||
                    o.informant == NULL))
        return cli_usage_error("death register",
                               "--date, --locality, --district and --informant are required "
                               "(or --json)");
    return cli_run_signed("death register", &o.common, do_register, &o);
}

static int death_show(int argc, char **argv)
{
    return cli_show_one("death show", &death_commands[1], "UIN or death number",
                        registry_death_show, argc, argv);
}
