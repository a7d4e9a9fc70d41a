/* eval-driver.c: the eval benchmark's ft side (compiled by tests/bench/eval.sh): loads a model directory and
 * times ft_model_forward on a fixed batch of B rows of T token ids, printing
 * "tokens seconds checksum" for the fastest of R timed passes (after one warm-up pass).
 * Rule: the ids are the same formula as eval_torch.py's, and the checksum (sum of the last position's logits
 * over the rows) lets the script check that both computed the same function. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "model.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: eval-driver MODEL_DIR B T RUNS\n");
        return 2;
    }
    int B = atoi(argv[2]), T = atoi(argv[3]), R = atoi(argv[4]);
    ft_buf why;
    ft_buf_init(&why);
    ft_model *m;
    if (B < 1 || T < 1 || R < 1 || ft_model_open(argv[1], NULL, &m, &why) != 0) {
        fprintf(stderr, "eval-driver: cannot open '%s': %s\n", argv[1], why.data ? why.data : "bad sizes");
        return 1;
    }
    int V = ft_model_cfg(m)->vocab_size;
    int32_t *ids = malloc((size_t)B * T * sizeof *ids);
    float *logits = malloc((size_t)B * T * V * sizeof *logits);
    if (!ids || !logits) return 1;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            ids[b * T + t] = (b * 1009 + t * 7919 + 13) % (V - 3) + 3;
    double best = 1e30;
    for (int r = 0; r <= R; r++) {
        double t0 = now();
        if (ft_model_forward(m, ids, B, T, NULL, NULL, NULL, logits) != 0) return 1;
        double s = now() - t0;
        if (r > 0 && s < best) best = s;
    }
    double sum = 0;
    for (int b = 0; b < B; b++)
        for (int i = 0; i < V; i++)
            sum += logits[((size_t)b * T + T - 1) * V + i];
    printf("%d %.6f %.6f\n", B * T, best, sum);
    free(ids), free(logits);
    ft_model_free(m);
    ft_buf_release(&why);
    return 0;
}
