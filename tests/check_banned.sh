#!/bin/sh
# Fails when a banned libc function (../shared/STYLE.md, after curl's list)
# appears in civreg's own C sources.
top=${1:-.}
cd "$top" || exit 2
banned='\b(sprintf|vsprintf|strcpy|strcat|strncpy|strtok|gets|atoi|atol|sscanf|gmtime|localtime)[[:space:]]*\('
files=$(find core db scanner registry issuance web cli tests bench -name '*.[ch]' 2>/dev/null)
[ -n "$files" ] || { echo "banned: no sources found under $top" >&2; exit 2; }
hits=$(grep -HnE "$banned" $files)
if [ -n "$hits" ]; then
    echo "banned functions found (use snprintf, the buf type, strtol, gmtime_r):"
    echo "$hits"
    exit 1
fi
echo "banned functions: none in $(echo "$files" | wc -l) files"
