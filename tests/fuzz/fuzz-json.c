/* fuzz-json.c: ft_json_parse (a fast path for plain JSON, cJSON for the rest) against cJSON alone.
 * Rule: whatever the bytes, both accept the same texts and build equal trees; the fast path may never
 * accept what cJSON refuses nor read past the input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define FUZZ_CHECK(cond, what)                                                                           \
    do {                                                                                                 \
        if (!(cond)) {                                                                                   \
            fprintf(stderr, "fuzz-json: invariant violated: %s (%s:%d)\n", what, __FILE__, __LINE__);    \
            abort();                                                                                     \
        }                                                                                                \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Exact equality of two trees: types, keys, strings, numbers bit for bit (cJSON_Compare calls inf != inf),
 * valueint, and the order of children. */
static int same_tree(const cJSON *a, const cJSON *b) {
    for (; a && b; a = a->next, b = b->next) {
        if (a->type != b->type || a->valueint != b->valueint) return 0;
        if (memcmp(&a->valuedouble, &b->valuedouble, sizeof a->valuedouble)) return 0;
        if (!a->string != !b->string || (a->string && strcmp(a->string, b->string))) return 0;
        if (!a->valuestring != !b->valuestring || (a->valuestring && strcmp(a->valuestring, b->valuestring)))
            return 0;
        if (!same_tree(a->child, b->child)) return 0;
    }
    return !a && !b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* an exact-size copy, so reading past the end is caught by ASan */
    char *s = calloc(size ? size : 1, 1);
    if (!s) return 0;
    if (size) memcpy(s, data, size);
    cJSON *ours = NULL;
    size_t off = 0;
    int rc = ft_json_parse(s, size, &ours, &off);
    const char *end = NULL;
    cJSON *ref = cJSON_ParseWithLengthOpts(s, size, &end, 0);
    /* ft_json_parse also requires that only whitespace follows the value */
    int ref_ok = ref != NULL;
    if (ref_ok) {
        size_t i = (size_t)(end - s);
        while (i < size && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) i++;
        ref_ok = i == size || s[i] == 0;
    }
    FUZZ_CHECK((rc == 0) == ref_ok, "ft_json_parse and cJSON agree on acceptance");
    if (rc == 0) {
        FUZZ_CHECK(same_tree(ours, ref), "ft_json_parse builds cJSON's tree");
        char *a = cJSON_PrintUnformatted(ours), *b = cJSON_PrintUnformatted(ref);
        FUZZ_CHECK(a && b && !strcmp(a, b), "the trees print the same");
        cJSON_free(a), cJSON_free(b);
    } else {
        FUZZ_CHECK(off <= size, "the error offset is inside the input");
    }
    cJSON_Delete(ours);
    cJSON_Delete(ref);
    free(s);
    return 0;
}
