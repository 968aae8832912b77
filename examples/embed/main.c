/*
 * examples/embed/main.c — a program with a trained model built in.
 *
 * careers.nn, the course's career classifier, was trained on its table
 * (examples/careers.csv) with nnc train, which wrote careers.safetensors.
 * nnc then turns the model and those weights into a standalone pair:
 *
 *   nnc build examples/embed/careers.nn --infer-only --no-blas \
 *       --weights examples/embed/careers.safetensors -o build/embed
 *   cc -std=c99 -O2 -Ibuild/embed examples/embed/main.c build/embed/careers.c \
 *       -o build/embed/embed -lm
 *
 * careers.c holds the forward pass and the weights as constants: the
 * program needs no runtime library, no BLAS and no file when it runs, and
 * allocates nothing.  `make embed` builds it and checks its output against
 * expected.txt.
 */
#include <stdio.h>

#include "careers.h"

static const char *const career[CAREERS_OUTPUT_SIZE] = {"LS", "LI", "IC"};

/* Estudio (hours of study), Edad (age), Promedio (average): the course's
 * eight students, then two new ones. */
static const float students[][CAREERS_INPUT_SIZE] = {
    {2, 24, 4}, {5, 22, 3}, {7, 25, 4}, {9, 20, 7},
    {10, 19, 4}, {11, 20, 3}, {13.4f, 21, 5}, {14, 20, 3},
    {6, 23, 6}, {12, 19, 5},
};
enum { NSTUDENTS = sizeof students / sizeof students[0] };

int main(void)
{
    float p[NSTUDENTS][CAREERS_OUTPUT_SIZE];

    /* All the rows in one call: predict takes them CAREERS_MAX_BATCH at a
     * time. */
    careers_predict(&students[0][0], NSTUDENTS, &p[0][0]);

    printf("careers: %d parameters (%d bytes), %d bytes of scratch memory\n",
           CAREERS_PARAM_COUNT, CAREERS_PARAM_BYTES, CAREERS_SCRATCH_BYTES);
    printf("Estudio Edad Promedio  career  p(LS)  p(LI)  p(IC)\n");
    for (int i = 0; i < NSTUDENTS; i++) {
        int best = 0;
        for (int k = 1; k < CAREERS_OUTPUT_SIZE; k++)
            best = p[i][k] > p[i][best] ? k : best;
        printf("%7.1f %4.0f %8.0f  %-6s  %.3f  %.3f  %.3f%s\n",
               (double)students[i][0], (double)students[i][1],
               (double)students[i][2], career[best], (double)p[i][0],
               (double)p[i][1], (double)p[i][2], i >= 8 ? "  (new)" : "");
    }
    return 0;
}
