/* fuzz-eval-task.c: arbitrary bytes as a benchmark's files, read by ft-eval's ev_set_load (task.c) and turned
 * into prompts (prompt.c). The first byte picks the task (low two bits) and whether the rest is mapping.json
 * (bit 2) or the CSV file of a subject's dev and split rows (otherwise, under a fixed mapping.json).
 * Rule: whatever the bytes, loading either fails with a reason or gives subjects whose rows have all their
 * fields, answers A-D (or none for a split without them), bad rows with a file and line >= 1; the prompts of
 * every row are built and contain each row's question. Files go to one temp directory per process. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eval.h"
#include "model-check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* the shared invariant check of the model-file targets (print what broke, abort) */
#define CHECK(cond, what) MODEL_CHECK(cond, what)

static char root[64];

static void put(const char *rel, const void *p, size_t n) {
    char path[160];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) abort();
}

static const char *const dirs[] = {"dev", "val", "test", NULL};
static const char *const files[] = {"mapping.json", "dev/s_dev.csv", "dev/s.csv", "val/s_val.csv",
                                    "test/s_test.csv", "test/s.csv", NULL};

/* Removes the temp directory at exit (every file this target can write is listed above). */
static void cleanup(void) {
    char p[160];
    for (int i = 0; files[i]; i++) snprintf(p, sizeof p, "%s/%s", root, files[i]), unlink(p);
    for (int i = 0; dirs[i]; i++) snprintf(p, sizeof p, "%s/%s", root, dirs[i]), rmdir(p);
    rmdir(root);
}

static void setup(void) {
    if (root[0]) return;
    snprintf(root, sizeof root, "/tmp/ft-fuzz-eval.XXXXXX");
    if (!mkdtemp(root)) abort();
    atexit(cleanup);
    for (int i = 0; dirs[i]; i++) {
        char p[128];
        snprintf(p, sizeof p, "%s/%s", root, dirs[i]);
        mkdir(p, 0777);
    }
}

static void check_item(const ev_item *it, int answered) {
    CHECK(it->id && it->q, "id and question");
    for (int k = 0; k < 4; k++) CHECK(it->opt[k] != NULL, "four options");
    if (answered) CHECK(it->answer >= 'A' && it->answer <= 'D', "a dev row's answer is A-D");
    else CHECK(it->answer == 0 || (it->answer >= 'A' && it->answer <= 'D'), "answers are A-D or none");
    CHECK(it->line >= 1, "a row has a line");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    setup();
    ev_task task = (ev_task)(data[0] & 3);
    if (task >= EV_NTASKS) task = EV_CEVAL;
    int as_mapping = data[0] & 4;
    static const char map[] = "{\"s\": {\"name\": \"科目\", \"category\": \"STEM\"}}";
    static const char row[] = "id,question,A,B,C,D,answer\n0,q,a,b,c,d,A\n";
    static const char mmlu_row[] = "q,a,b,c,d,A\n";
    const char *fixed = task == EV_MMLU ? mmlu_row : row;
    const char *split = ev_default_split(task);
    char dev[64], rows[64];
    if (task == EV_CMMLU) {
        snprintf(dev, sizeof dev, "dev/s.csv");
        snprintf(rows, sizeof rows, "%s/s.csv", split);
    } else {
        snprintf(dev, sizeof dev, "dev/s_dev.csv");
        snprintf(rows, sizeof rows, "%s/s_%s.csv", split, split);
    }
    if (as_mapping) {
        put("mapping.json", data + 1, size - 1);
        put(dev, fixed, strlen(fixed));
        put(rows, fixed, strlen(fixed));
    } else {
        put("mapping.json", map, strlen(map));
        put(dev, data + 1, size - 1);
        put(rows, data + 1, size - 1);
    }
    ev_set set;
    ft_buf why, prompt;
    ft_buf_init(&why), ft_buf_init(&prompt);
    int rc = ev_set_load(&set, task, root, NULL, NULL, &why);
    if (rc < 0) {
        CHECK(why.len > 0, "a failure says why");
    } else {
        for (size_t b = 0; b < set.nbad; b++)
            CHECK(set.bad[b].file && set.bad[b].line >= 1 && set.bad[b].why, "bad row");
        for (size_t i = 0; i < set.nsubj; i++) {
            const ev_subject *s = &set.subj[i];
            CHECK(s->handle && s->name && s->category >= 0 && s->category < set.ncategories, "subject");
            for (size_t j = 0; j < s->ndev; j++) check_item(&s->dev[j], 1);
            for (size_t j = 0; j < s->nitems; j++) {
                check_item(&s->items[j], 0);
                ft_buf_clear(&prompt);
                ev_prompt_prefix(&prompt, task, s, 5);
                ev_prompt_question(&prompt, task, &s->items[j]);
                CHECK(strstr(prompt.data, s->items[j].q) != NULL, "the prompt holds its question");
            }
        }
        ev_set_release(&set);
    }
    ft_buf_release(&why), ft_buf_release(&prompt);
    return 0;
}
