/* test-eval-task: the benchmark directories read as their SOURCE.md files describe them, on small copies the
 * test writes: C-Eval's CRLF rows with quoted multi-line fields and the id column, CMMLU's unnamed index
 * column and capital headers, MMLU's headerless rows without a final newline; bad rows listed with file:line
 * and left out; unknown subjects and splits, a missing directory and a missing file as errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "eval.h"
#include "tap.h"

static char dir[128];

static void put(const char *rel, const char *text) {
    char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    char *slash = strrchr(p, '/');
    *slash = 0;
    mkdir(p, 0777);
    *slash = '/';
    FILE *f = fopen(p, "wb");
    fputs(text, f);
    fclose(f);
}

static char root[64];

static void use(const char *sub) {
    snprintf(dir, sizeof dir, "%s/%s", root, sub);
    mkdir(dir, 0777);
}

int main(void) {
    if (tap_tmpdir(root, sizeof root, "eval-task")) return 1;
    ev_set set;
    ft_buf why;
    ft_buf_init(&why);

    use("ceval");
    put("mapping.json", "{\"physics\": {\"name\": \"物理\", \"category\": \"STEM\"},\n"
                        " \"high_school_physics\": {\"name\": \"高中物理\", \"category\": \"STEM\"},\n"
                        " \"law\": {\"name\": \"法学\", \"category\": \"Social Science\"}}");
    put("dev/physics_dev.csv", "id,question,A,B,C,D,answer,explanation\r\n"
                               "0,\"two\r\nlines\",a,b,c,d,A,\"why\nso\"\r\n"
                               "1,q1,\"x, y\",\"say \"\"hi\"\"\",c,d,B,\r\n");
    put("val/physics_val.csv", "id,question,A,B,C,D,answer\r\n"
                               "3,v0,a,b,c,d,C\r\n"
                               "4,v1,a,b,c,d,E\r\n"
                               "5,v2,a,b,c\r\n"
                               "9,v3,\"  1/2\",b,c,d,D\r\n");
    put("dev/high_school_physics_dev.csv", "id,question,A,B,C,D,answer,explanation\r\n0,h,a,b,c,d,A,\r\n");
    put("val/high_school_physics_val.csv", "id,question,A,B,C,D,answer\r\n0,hv,a,b,c,d,B\r\n");
    put("dev/law_dev.csv", "id,question,A,B,C,D,answer,explanation\r\n0,l,a,b,c,d,A,\r\n");
    put("val/law_val.csv", "id,question,A,B,C,D,answer\r\n0,lv,a,b,c,d,B\r\n");
    put("test/physics_test.csv", "id,question,A,B,C,D\r\n0,t0,a,b,c,d\r\n1,t1,a,b,c,d\r\n");

    int rc = ev_set_load(&set, EV_CEVAL, dir, NULL, NULL, &why);
    is_int(rc, 0, "C-Eval val loads (%s)", why.data ? why.data : "");
    is_int(set.nsubj, 3, "three subjects, in mapping.json order");
    is_str(set.split, "val", "the default split is val");
    const ev_subject *s = &set.subj[0];
    is_str(s->handle, "physics", "first subject handle");
    is_str(s->name, "物理", "its Chinese name");
    is_str(set.categories[s->category], "STEM", "its category");
    ok(!s->hard && set.subj[1].hard, "high_school_physics is in C-Eval Hard, physics is not");
    is_str(set.categories[set.subj[2].category], "Social Sciences",
           "'Social Science' is the Social Sciences category");
    is_int(s->ndev, 2, "two dev rows");
    is_str(s->dev[0].q, "two\r\nlines", "a quoted field keeps its CRLF line break, as pandas does");
    is_str(s->dev[1].opt[0], "x, y", "a quoted comma");
    is_str(s->dev[1].opt[1], "say \"hi\"", "doubled quotes");
    ok(s->dev[0].answer == 'A' && s->dev[1].answer == 'B', "dev answers");
    is_int(s->nitems, 2, "two good val rows; the bad answer and the short row are left out");
    is_str(s->items[0].id, "3", "the id column");
    is_str(s->items[1].opt[0], "  1/2", "leading spaces kept");
    is_int(s->items[1].line, 5, "row line numbers");
    is_int(set.nbad, 2, "two bad rows listed");
    if (set.nbad == 2) {
        ok(strstr(set.bad[0].file, "val/physics_val.csv") && set.bad[0].line == 3, "bad answer at val:3");
        ok(strstr(set.bad[0].why, "answer 'E'") != NULL, "reason names the answer (%s)", set.bad[0].why);
        ok(set.bad[1].line == 4 && strstr(set.bad[1].why, "5 fields, the header has 7") != NULL,
           "short row at val:4 (%s)", set.bad[1].why);
    }
    is_int(ev_set_questions(&set), 4, "questions over all subjects");
    ev_set_release(&set);

    rc = ev_set_load(&set, EV_CEVAL, dir, "test", "physics", &why);
    is_int(rc, 0, "C-Eval test split with --subjects");
    ok(set.nsubj == 1 && set.subj[0].nitems == 2 && set.subj[0].items[0].answer == 0,
       "test rows have no answer");
    ev_set_release(&set);

    rc = ev_set_load(&set, EV_CEVAL, dir, NULL, "law,high_school_physics", &why);
    ok(rc == 0 && set.nsubj == 2 && !strcmp(set.subj[0].handle, "high_school_physics"),
       "a subject list keeps mapping.json order");
    ev_set_release(&set);

    ft_buf_clear(&why);
    is_int(ev_set_load(&set, EV_CEVAL, dir, NULL, "physics,nope", &why), FT_EINVAL, "unknown subject");
    ok(strstr(why.data, "unknown subject 'nope'") != NULL, "named: %s", why.data);
    ft_buf_clear(&why);
    is_int(ev_set_load(&set, EV_CEVAL, dir, "train", NULL, &why), FT_EINVAL, "unknown split");
    ft_buf_clear(&why);
    is_int(ev_set_load(&set, EV_CMMLU, dir, NULL, "law", &why), FT_EIO, "a missing file");
    ok(strstr(why.data, "dev/law.csv") != NULL, "named: %s", why.data);
    ft_buf_clear(&why);
    char missing[128];
    snprintf(missing, sizeof missing, "%s/none", root);
    is_int(ev_set_load(&set, EV_CEVAL, missing, NULL, NULL, &why), FT_EIO, "a missing directory");
    ok(strstr(why.data, "none") != NULL, "named: %s", why.data);

    use("cmmlu");
    put("mapping.json", "{\"agronomy\": {\"name\": \"农学\", \"category\": \"Other\"}}");
    put("dev/agronomy.csv", ",Question,A,B,C,D,Answer\n0,q,a,b,c,d,C\n");
    put("test/agronomy.csv", ",Question,A,B,C,D,Answer\n0,t,a,b,c,d,D\n1,u,a,b,c,d,A\n");
    ft_buf_clear(&why);
    rc = ev_set_load(&set, EV_CMMLU, dir, NULL, NULL, &why);
    ok(rc == 0 && set.nsubj == 1 && set.subj[0].nitems == 2, "CMMLU loads (%s)", why.data ? why.data : "");
    if (rc == 0) {
        ok(!strcmp(set.subj[0].items[1].id, "1") && set.subj[0].items[1].answer == 'A',
           "CMMLU's unnamed index column is the id; Answer in capitals");
        is_str(set.subj[0].dev[0].q, "q", "its Question column");
        ev_set_release(&set);
    }

    use("mmlu");
    put("mapping.json", "{\"abstract_algebra\": {\"name\": \"abstract algebra\", \"category\": \"STEM\"}}");
    put("dev/abstract_algebra_dev.csv", "q0,a,b,c,d,B\n");
    put("test/abstract_algebra_test.csv", "\"t0\nmore\",1,2,3,4,A\r\nt1,1,2,3,4,D");
    ft_buf_clear(&why);
    rc = ev_set_load(&set, EV_MMLU, dir, NULL, NULL, &why);
    ok(rc == 0 && set.nsubj == 1 && set.subj[0].nitems == 2, "MMLU loads without a header (%s)",
       why.data ? why.data : "");
    if (rc == 0) {
        is_str(set.subj[0].items[0].q, "t0\nmore", "MMLU quoted line break");
        ok(!strcmp(set.subj[0].items[1].id, "1") && set.subj[0].items[1].answer == 'D',
           "row number as id; a last row without a newline");
        is_str(set.subj[0].name, "abstract algebra", "the name from mapping.json");
        ev_set_release(&set);
    }

    put("mapping.json", "{\"abstract_algebra\": 3");
    ft_buf_clear(&why);
    is_int(ev_set_load(&set, EV_MMLU, dir, NULL, NULL, &why), FT_EPARSE, "malformed mapping.json");
    ft_buf_release(&why);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0) printf("# could not remove %s\n", root);
    return done_testing();
}
