/* conversation.h: the conversation record (DESIGN.md "Conversation JSONL") and its JSONL reader/writer.
 * Rule: the record owns copies of its texts; keys it does not know are carried through untouched. */
#ifndef FT_CONVERSATION_H
#define FT_CONVERSATION_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "ft.h"

enum { FT_HUMAN = 0, FT_ASSISTANT = 1 };

typedef struct {
    char *text[2]; /* [FT_HUMAN], [FT_ASSISTANT]: owned, NUL-terminated */
    size_t len[2];
} ft_turn;

typedef struct {
    cJSON *id;       /* conversation_id: any JSON value, owned, or NULL */
    char *category;  /* owned or NULL */
    size_t category_len;
    char *system;    /* owned or NULL */
    size_t system_len;
    ft_turn *turns;  /* (nturns) owned */
    size_t nturns, cap;
    cJSON *extra;    /* object of the other keys in input order, owned, or NULL */
} ft_conv;

void ft_conv_init(ft_conv *c);
void ft_conv_release(ft_conv *c);
/* Copies both texts into a new last turn. */
void ft_conv_add_turn(ft_conv *c, const char *h, size_t hlen, const char *a, size_t alen);
/* The same without copying: takes ownership of h and a (malloc'ed, NUL-terminated at hlen and alen). */
void ft_conv_add_turn_owned(ft_conv *c, char *h, size_t hlen, char *a, size_t alen);
/* Replaces a text with an owned heap string (takes ownership of s, which must be malloc'ed). */
void ft_conv_take_text(char **slot, size_t *slot_len, char *s, size_t len);
/* Copies s (or clears with NULL). */
void ft_conv_set_text(char **slot, size_t *slot_len, const char *s, size_t len);
/* Moves every key of obj except the skipped ones (a NULL-terminated list, may be NULL) into c->extra,
 * preserving order; obj loses those items. */
void ft_conv_take_extra(ft_conv *c, cJSON *obj, const char *const *skip);

/* ft_conv_from_json: reads a Firefly-shaped object ({"conversation": [{"human","assistant"}, …]}, with
 * optional conversation_id, category, system). Items are detached from obj into c. Returns 0, or
 * FT_EFORMAT with *why naming the problem (a static string). */
int ft_conv_from_json(cJSON *obj, ft_conv *c, const char **why);

/* Appends the record as one line of JSON plus '\n': conversation_id, category, system, conversation,
 * then the extra keys in their input order, less any that would repeat a key already written. */
void ft_conv_write_jsonl(const ft_conv *c, ft_buf *out);

#endif
