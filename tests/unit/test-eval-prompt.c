/* test-eval-prompt: the few-shot prompts of C-Eval, CMMLU and MMLU byte for byte (header, shots in order,
 * options, answer cue and letter, the question ending in the cue), the shot count, and the answer-letter
 * context strings that the default --letter-ids rule encodes. */
#include <string.h>

#include "eval.h"
#include "tap.h"

static ev_item item(const char *id, const char *q, const char *a, const char *b, const char *c, const char *d,
                    char answer) {
    ev_item it = {(char *)id, (char *)q, {(char *)a, (char *)b, (char *)c, (char *)d}, answer, 0};
    return it;
}

/* The prompt of question q after shots dev rows of s, in b. */
static const char *render(ft_buf *b, ev_task t, const ev_subject *s, int shots, const ev_item *q) {
    ft_buf_clear(b);
    ev_prompt_prefix(b, t, s, shots);
    if (q) ev_prompt_question(b, t, q);
    return b->data;
}

int main(void) {
    ev_item dev[2] = {item("0", "一加一等于____。", "1", "2", "3", "4", 'B'),
                      item("1", "多行\n题目", "甲", "乙", " 丙", "丁\"", 'D')};
    ev_item q = item("7", "问题？", "A项", "B项", "C项", "D项", 'C');
    ev_subject s = {"high_school_physics", "高中物理", 0, 1, dev, 2, &q, 1};
    ft_buf b;
    ft_buf_init(&b);

    is_str(render(&b, EV_CEVAL, &s, 2, &q),
           "以下是中国关于高中物理考试的单项选择题，请选出其中的正确答案。\n\n"
           "一加一等于____。\nA. 1\nB. 2\nC. 3\nD. 4\n答案：B\n\n"
           "多行\n题目\nA. 甲\nB. 乙\nC.  丙\nD. 丁\"\n答案：D\n\n"
           "问题？\nA. A项\nB. B项\nC. C项\nD. D项\n答案：",
           "C-Eval: header with the Chinese name, 2 shots in file order, the question ending in the "
           "full-width cue");

    is_str(render(&b, EV_CEVAL, &s, 0, NULL),
           "以下是中国关于高中物理考试的单项选择题，请选出其中的正确答案。\n\n",
           "C-Eval 0-shot: the header alone");

    ok(strstr(render(&b, EV_CEVAL, &s, 1, NULL), "答案：B\n\n") && !strstr(b.data, "多行"),
       "C-Eval 1-shot: only the first dev row");

    ok(strstr(render(&b, EV_CEVAL, &s, 5, NULL), "答案：D\n\n") != NULL && b.len > 0,
       "more shots than dev rows: every dev row, no more");

    ev_subject cm = {"agronomy", "农学", 0, 0, dev, 1, &q, 1};
    is_str(render(&b, EV_CMMLU, &cm, 1, &q),
           "以下是关于农学的单项选择题，请直接给出正确答案的选项。\n\n"
           "题目：一加一等于____。\nA. 1\nB. 2\nC. 3\nD. 4\n答案是：B\n\n"
           "题目：问题？\nA. A项\nB. B项\nC. C项\nD. D项\n答案是：",
           "CMMLU: its header, 题目： before each question, the cue 答案是：");

    ev_item en = item("0", "What is 1+1?", "1", "2", "3", "4", 'B');
    ev_subject mm = {"abstract_algebra", "abstract algebra", 0, 0, &en, 1, &en, 1};
    is_str(render(&b, EV_MMLU, &mm, 1, &en),
           "The following are multiple choice questions (with answers) about abstract algebra.\n\n"
           "What is 1+1?\nA. 1\nB. 2\nC. 3\nD. 4\nAnswer: B\n\n"
           "What is 1+1?\nA. 1\nB. 2\nC. 3\nD. 4\nAnswer:",
           "MMLU: hendrycks' header, 'Answer: X' in shots, the question ending in 'Answer:'");

    const char *want[3] = {"答案：A", "答案是：A", "Answer: A"};
    for (int t = 0; t < EV_NTASKS; t++) {
        ft_buf_clear(&b);
        ev_prompt_letter_context(&b, (ev_task)t, 'A');
        is_str(b.data, want[t], "%s letter context is the cue and the letter as a shot writes it",
               ev_task_names[t]);
    }
    ft_buf_clear(&b);
    ev_prompt_letter_context(&b, EV_CEVAL, 'D');
    is_str(b.data, "答案：D", "letter D");

    is_str(ev_default_split(EV_CEVAL), "val", "C-Eval's default split is val");
    is_str(ev_default_split(EV_CMMLU), "test", "CMMLU's default split is test (it has no val)");
    ft_buf_release(&b);
    return done_testing();
}
