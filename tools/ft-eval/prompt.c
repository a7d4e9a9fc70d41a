/* prompt.c: the few-shot prompts of C-Eval (DESIGN.md "Evaluation semantics"), CMMLU (haonan-li/CMMLU
 * src/mp_utils.py) and MMLU (hendrycks/test evaluate.py), as text.
 * Rule: one shape for all three: header, then each shot as question, options, answer cue and letter, then the
 * question ending in the cue; only the strings differ, and they live in one table. */
#include <string.h>

#include "eval.h"

typedef struct {
    const char *head, *tail; /* header = head + subject name + tail */
    const char *q_prefix;    /* before each question */
    const char *cue;         /* answer cue, on its own line after the options */
    const char *sep;         /* between the cue and the letter in a shot */
} format;

static const format formats[EV_NTASKS] = {
    [EV_CEVAL] = {"以下是中国关于", "考试的单项选择题，请选出其中的正确答案。\n\n", "", "答案：", ""},
    [EV_CMMLU] = {"以下是关于", "的单项选择题，请直接给出正确答案的选项。\n\n", "题目：", "答案是：", ""},
    [EV_MMLU] = {"The following are multiple choice questions (with answers) about ", ".\n\n", "",
                 "Answer:", " "},
};

/* The question and its options up to and including the cue. */
static void question(ft_buf *out, const format *f, const ev_item *it) {
    ft_buf_adds(out, f->q_prefix);
    ft_buf_adds(out, it->q);
    for (int k = 0; k < 4; k++) {
        ft_buf_addf(out, "\n%c. ", 'A' + k);
        ft_buf_adds(out, it->opt[k]);
    }
    ft_buf_addc(out, '\n');
    ft_buf_adds(out, f->cue);
}

void ev_prompt_prefix(ft_buf *out, ev_task t, const ev_subject *s, int shots) {
    const format *f = &formats[t];
    ft_buf_adds(out, f->head);
    ft_buf_adds(out, s->name);
    ft_buf_adds(out, f->tail);
    for (int i = 0; i < shots && (size_t)i < s->ndev; i++) {
        question(out, f, &s->dev[i]);
        ft_buf_adds(out, f->sep);
        ft_buf_addc(out, s->dev[i].answer);
        ft_buf_adds(out, "\n\n");
    }
}

void ev_prompt_question(ft_buf *out, ev_task t, const ev_item *it) { question(out, &formats[t], it); }

void ev_prompt_letter_context(ft_buf *out, ev_task t, char letter) {
    ft_buf_adds(out, formats[t].cue);
    ft_buf_adds(out, formats[t].sep);
    ft_buf_addc(out, letter);
}
