/* Planted: each call below drops its result; check_unchecked.py must list all five. */
static void planted(json_t *o, json_t *a, char *buf, size_t n, const char *name)
{
    json_object_set_new(o, "name", json_string(name));
    if (a != NULL)
        json_array_append_new(a, json_string(name));
    else
        json_object_set(o, "list", a);
    for (int i = 0; i < 2; i++)
        json_array_append(a, o);
    snprintf(buf, n, "%s/pkg", name);
}
