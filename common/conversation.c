/* conversation.c: the conversation record and its JSONL form.
 * Rule: the writer emits a fixed key order and escapes with ft_json_put_string, so output is byte-stable. */
#include "conversation.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"

void ft_conv_init(ft_conv *c) { memset(c, 0, sizeof *c); }

void ft_conv_release(ft_conv *c) {
    cJSON_Delete(c->id);
    cJSON_Delete(c->extra);
    free(c->category);
    free(c->system);
    for (size_t i = 0; i < c->nturns; i++) free(c->turns[i].text[0]), free(c->turns[i].text[1]);
    free(c->turns);
    ft_conv_init(c);
}

static char *dupn(const char *s, size_t n) {
    char *p = ft_xmalloc(n + 1);
    if (n) memcpy(p, s, n);
    p[n] = 0;
    return p;
}

void ft_conv_add_turn_owned(ft_conv *c, char *h, size_t hlen, char *a, size_t alen) {
    if (c->nturns == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 8;
        c->turns = ft_xrealloc(c->turns, c->cap * sizeof *c->turns);
    }
    ft_turn *t = &c->turns[c->nturns++];
    t->text[0] = h, t->len[0] = hlen;
    t->text[1] = a, t->len[1] = alen;
}

void ft_conv_add_turn(ft_conv *c, const char *h, size_t hlen, const char *a, size_t alen) {
    ft_conv_add_turn_owned(c, dupn(h, hlen), hlen, dupn(a, alen), alen);
}

void ft_conv_take_text(char **slot, size_t *slot_len, char *s, size_t len) {
    free(*slot);
    *slot = s;
    *slot_len = len;
}

void ft_conv_set_text(char **slot, size_t *slot_len, const char *s, size_t len) {
    ft_conv_take_text(slot, slot_len, s ? dupn(s, len) : NULL, s ? len : 0);
}

static int in_list(const char *k, const char *const *list) {
    for (; list && *list; list++)
        if (!strcmp(k, *list)) return 1;
    return 0;
}

void ft_conv_take_extra(ft_conv *c, cJSON *obj, const char *const *skip) {
    cJSON *it = obj->child;
    while (it) {
        cJSON *next = it->next;
        if (it->string && !in_list(it->string, skip)) {
            if (!c->extra) c->extra = cJSON_CreateObject();
            if (!c->extra) ft_assert_fail("cJSON_CreateObject", __FILE__, __LINE__);
            cJSON_DetachItemViaPointer(obj, it);
            /* a duplicate key keeps its first value, as most JSON readers do */
            if (cJSON_GetObjectItemCaseSensitive(c->extra, it->string)) cJSON_Delete(it);
            else cJSON_AddItemToObject(c->extra, it->string, it) ;
        }
        it = next;
    }
}

int ft_conv_from_json(cJSON *obj, ft_conv *c, const char **why) {
    if (!cJSON_IsObject(obj)) return *why = "record is not a JSON object", FT_EFORMAT;
    cJSON *conv = cJSON_GetObjectItemCaseSensitive(obj, "conversation");
    if (!cJSON_IsArray(conv)) return *why = "'conversation' is not an array", FT_EFORMAT;
    cJSON *t;
    cJSON_ArrayForEach(t, conv) {
        const char *h = ft_json_str(t, "human"), *a = ft_json_str(t, "assistant");
        if (!cJSON_IsObject(t)) return *why = "a turn is not an object", FT_EFORMAT;
        if (!h) return *why = "a turn has no string 'human'", FT_EFORMAT;
        if (!a) return *why = "a turn has no string 'assistant'", FT_EFORMAT;
    }
    cJSON_ArrayForEach(t, conv) {
        const char *h = ft_json_str(t, "human"), *a = ft_json_str(t, "assistant");
        ft_conv_add_turn(c, h, strlen(h), a, strlen(a));
    }
    cJSON *cat = cJSON_GetObjectItemCaseSensitive(obj, "category");
    cJSON *sys = cJSON_GetObjectItemCaseSensitive(obj, "system");
    static const char *const skip_str[] = {"conversation", NULL};
    static const char *const skip_all[] = {"conversation", "category", "system", NULL};
    int cat_s = cJSON_IsString(cat), sys_s = cJSON_IsString(sys);
    if (cat_s) ft_conv_set_text(&c->category, &c->category_len, cat->valuestring, strlen(cat->valuestring));
    if (sys_s) ft_conv_set_text(&c->system, &c->system_len, sys->valuestring, strlen(sys->valuestring));
    c->id = cJSON_DetachItemFromObjectCaseSensitive(obj, "conversation_id");
    /* A non-string category or system is not ours to interpret: it stays among the extra keys. */
    if (cat_s && sys_s) ft_conv_take_extra(c, obj, skip_all);
    else {
        if (cat_s) cJSON_DeleteItemFromObjectCaseSensitive(obj, "category");
        if (sys_s) cJSON_DeleteItemFromObjectCaseSensitive(obj, "system");
        ft_conv_take_extra(c, obj, skip_str);
    }
    return 0;
}

void ft_conv_write_jsonl(const ft_conv *c, ft_buf *out) {
    int first = 1;
    ft_buf_addc(out, '{');
    if (c->id) {
        ft_buf_adds(out, "\"conversation_id\":");
        ft_json_put_value(out, c->id);
        first = 0;
    }
    if (c->category) {
        ft_buf_adds(out, first ? "\"category\":" : ",\"category\":");
        ft_json_put_string(out, c->category, c->category_len);
        first = 0;
    }
    if (c->system) {
        ft_buf_adds(out, first ? "\"system\":" : ",\"system\":");
        ft_json_put_string(out, c->system, c->system_len);
        first = 0;
    }
    ft_buf_adds(out, first ? "\"conversation\":[" : ",\"conversation\":[");
    for (size_t i = 0; i < c->nturns; i++) {
        ft_buf_adds(out, i ? ",{\"human\":" : "{\"human\":");
        ft_json_put_string(out, c->turns[i].text[0], c->turns[i].len[0]);
        ft_buf_adds(out, ",\"assistant\":");
        ft_json_put_string(out, c->turns[i].text[1], c->turns[i].len[1]);
        ft_buf_addc(out, '}');
    }
    ft_buf_addc(out, ']');
    if (c->extra) {
        const cJSON *it;
        cJSON_ArrayForEach(it, c->extra) {
            const char *k = it->string;
            if (!strcmp(k, "conversation") || (c->id && !strcmp(k, "conversation_id")) ||
                (c->category && !strcmp(k, "category")) || (c->system && !strcmp(k, "system")))
                continue; /* the record's own key was written: no key twice */
            ft_buf_addc(out, ',');
            ft_json_put_string(out, it->string, strlen(it->string));
            ft_buf_addc(out, ':');
            ft_json_put_value(out, it);
        }
    }
    ft_buf_adds(out, "}\n");
}
