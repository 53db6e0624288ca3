/* Planted: every result is used; check_unchecked.py must accept this file. */
static int planted(json_t *o, json_t *a, char *buf, size_t n, const char *name)
{
    bool bad = false;

    bad |= json_object_set_new(o, "name", json_string(name)) != 0;
    if (json_array_append_new(a, json_string(name)) != 0 ||
        json_object_set(o, "list", a) != 0)
        return -1;
    if (snprintf(buf, n, "%s/pkg", name) >= (int)n)
        return -1;
    /* cannot truncate: two digits */
    (void)snprintf(buf, 3, "%02d", 7);
    return bad ? -1 : 0;
}
