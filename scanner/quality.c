/* civreg scanner: page quality measures (see quality.h for the rules). */
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "quality.h"

#define A4_LONG_INCHES (297.0 / 25.4)
#define WORK_DPI 150.0
#define BLANK_INK_RATIO 0.0005
#define INK_MARGIN 30           /* gray levels below the paper that count as ink */
#define FADED_CONTRAST 60
#define DARK_PAPER 100
#define BLUR_SHARPNESS 0.30
#define SKEW_RANGE 10.0
#define SKEW_MAX_POINTS 60000

static double projection_score(const int32_t *px, const int32_t *py, size_t n, double angle,
                               int32_t *bins, size_t nbins, int32_t offset)
{
    float t = (float)tan(angle * M_PI / 180.0), base = (float)offset + 0.5f;
    double score = 0;

    memset(bins, 0, nbins * sizeof *bins);
    /* offset keeps every shifted row positive, so truncation rounds */
    for (size_t i = 0; i < n; i++) {
        float y = (float)py[i] + (float)px[i] * t + base;
        if (y >= 0 && (size_t)y < nbins)
            bins[(size_t)y]++;
    }
    for (size_t i = 0; i < nbins; i++)
        score += (double)bins[i] * bins[i];
    return score;
}

/* Try the angles FROM to TO (inclusive) by STEP degrees: *BEST becomes the
 * one whose profile scores above *BEST_SCORE and all others tried. */
static void sharpest_angle(const int32_t *px, const int32_t *py, size_t n, int32_t *bins,
                           size_t nbins, int32_t offset, double from, double to, double step,
                           double *best, double *best_score)
{
    for (double a = from; a <= to + 1e-9; a += step) {
        double s = projection_score(px, py, n, a, bins, nbins, offset);
        if (s > *best_score) {
            *best_score = s;
            *best = a;
        }
    }
}

/* Angle (degrees) at which the ink's row profile is sharpest: text lines
 * then fall into few rows. 0 when there is too little ink to tell. */
static int estimate_skew(const struct scan_image *w, int threshold, double *skew, struct err *err)
{
    size_t n = 0, total = 0, step, points;
    int32_t *px, *py, *bins;
    int32_t offset = (int32_t)ceil(w->width * tan(SKEW_RANGE * M_PI / 180.0)) + 2;
    size_t nbins = (size_t)w->height + 2 * (size_t)offset + 1;
    double best = 0, best_score = -1;

    *skew = 0;
    for (size_t i = 0; i < (size_t)w->width * w->height; i++)
        total += w->pix[i] < threshold;
    if (total < 200)
        return 0;
    step = total / SKEW_MAX_POINTS + 1;
    points = total / step + 1;
    /* One block: the sampled points' x and y, then the profile's bins. */
    if (nbins > SIZE_MAX / sizeof *px - 2 * points ||
        (px = malloc((2 * points + nbins) * sizeof *px)) == NULL)
        return err_set(err, "quality: out of memory");
    py = px + points;
    bins = py + points;
    for (size_t i = 0, k = 0; i < (size_t)w->width * w->height; i++) {
        if (w->pix[i] >= threshold)
            continue;
        if (k++ % step == 0) {
            px[n] = (int32_t)(i % w->width);
            py[n] = (int32_t)(i / w->width);
            n++;
        }
    }
    /* Half degrees over the whole range, then twentieths around the best. */
    sharpest_angle(px, py, n, bins, nbins, offset, -SKEW_RANGE, SKEW_RANGE, 0.5, &best,
                   &best_score);
    sharpest_angle(px, py, n, bins, nbins, offset, best - 0.5, best + 0.5, 0.05, &best,
                   &best_score);
    /* y grows downwards: a profile aligned at angle a means lines rising
     * to the right by a degrees. */
    *skew = round(best * 100.0) / 100.0;
    free(px);
    return 0;
}

int scan_quality_check(const struct scan_image *page, struct scan_quality *q, struct err *err)
{
    struct scan_image work = SCAN_IMAGE_INIT;
    const struct scan_image *w = page;
    uint64_t hist[256] = { 0 }, n, acc = 0, ink = 0;
    double dpi, sum2 = 0, noise;
    uint64_t edges = 0;
    int threshold, contrast, p01 = -1, p50 = -1, rc = -1;
    unsigned factor;

    memset(q, 0, sizeof *q);
    if (page->dpi_x > 0 && page->dpi_y > 0) {
        dpi = fmin(page->dpi_x, page->dpi_y);
        q->dpi_source = SCAN_DPI_METADATA;
    } else {
        uint32_t side = page->width > page->height ? page->width : page->height;
        dpi = round(side / A4_LONG_INCHES);
        q->dpi_source = SCAN_DPI_ESTIMATED;
    }
    q->dpi = dpi;
    if (dpi < SCAN_QUALITY_MIN_DPI)
        q->flags |= SCAN_Q_LOW_RESOLUTION;
    factor = dpi >= 2 * WORK_DPI ? (unsigned)lround(dpi / WORK_DPI) : 1;
    if (factor > 1) {
        if (scan_image_reduce(page, factor, &work, err) != 0)
            goto out;
        w = &work;
    }
    n = (uint64_t)w->width * w->height;
    for (uint64_t i = 0; i < n; i++)
        hist[w->pix[i]]++;
    for (int v = 0; v < 256; v++) {
        acc += hist[v];
        if (p50 < 0 && acc * 2 >= n)
            p50 = v;
    }
    /* Paper grain: 1.4826 x the median absolute deviation from the paper
     * level estimates its standard deviation (robust to the ink). */
    {
        uint64_t dev[256] = { 0 };
        int mad = 0;
        for (int v = 0; v < 256; v++)
            dev[abs(v - p50)] += hist[v];
        for (acc = 0; mad < 256; mad++) {
            acc += dev[mad];
            if (acc * 2 >= n)
                break;
        }
        noise = 1.4826 * mad;
    }
    q->paper = p50;
    /* Ink: clearly darker than the paper, beyond its grain. */
    threshold = p50 - (int)fmax(INK_MARGIN, 4.0 * noise);
    for (int v = 0; v < threshold && v < 256; v++)
        ink += hist[v];
    q->ink_ratio = (double)ink / (double)n;
    q->ink = p50;
    if (ink > 0) {
        for (acc = 0, p01 = 0; p01 < threshold; p01++) {
            acc += hist[p01];
            if (acc * 2 >= ink)
                break;
        }
        q->ink = p01; /* median ink level */
    }
    if (q->ink_ratio < BLANK_INK_RATIO)
        q->flags |= SCAN_Q_BLANK;
    if (p50 < DARK_PAPER)
        q->flags |= SCAN_Q_TOO_DARK;
    contrast = p50 - q->ink;
    if (!(q->flags & SCAN_Q_BLANK) && contrast < FADED_CONTRAST)
        q->flags |= SCAN_Q_TOO_LIGHT;

    /* Sharpness: RMS of the 4-neighbour Laplacian over edge pixels (where
     * the gradient is at least a quarter of the ink contrast), relative to
     * that contrast. A crisp stroke edge gives values near 0.5; a blurred
     * one spreads the same step over several pixels and falls well below. */
    if (contrast > 0 && w->width >= 3 && w->height >= 3) {
        int edge = contrast / 4 > 8 ? contrast / 4 : 8;
        for (uint32_t y = 1; y + 1 < w->height; y++) {
            const unsigned char *r = w->pix + (size_t)y * w->width;
            const unsigned char *u = r - w->width, *d = r + w->width;
            for (uint32_t x = 1; x + 1 < w->width; x++) {
                int gx = r[x + 1] - r[x - 1], gy = d[x] - u[x];
                int lap;
                if (abs(gx) + abs(gy) < 2 * edge)
                    continue;
                lap = u[x] + d[x] + r[x - 1] + r[x + 1] - 4 * r[x];
                sum2 += (double)lap * lap;
                edges++;
            }
        }
    }
    q->sharpness = edges ? sqrt(sum2 / (double)edges) / (contrast > 0 ? contrast : 1) : 0;
    q->sharpness = round(q->sharpness * 1000.0) / 1000.0;
    if (!(q->flags & SCAN_Q_BLANK) && edges > 0 && q->sharpness < BLUR_SHARPNESS)
        q->flags |= SCAN_Q_BLURRY;
    if (!(q->flags & SCAN_Q_BLANK)) {
        if (estimate_skew(w, threshold, &q->skew_degrees, err) != 0)
            goto out;
        if (fabs(q->skew_degrees) > SCAN_QUALITY_MAX_SKEW)
            q->flags |= SCAN_Q_SKEWED;
    }
    rc = 0;
out:
    scan_image_release(&work);
    return rc;
}

const char *scan_quality_flags_str(unsigned flags, char *out, size_t size)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {
        { SCAN_Q_LOW_RESOLUTION, "low-resolution" }, { SCAN_Q_BLANK, "blank" },
        { SCAN_Q_TOO_DARK, "too-dark" },             { SCAN_Q_TOO_LIGHT, "too-light" },
        { SCAN_Q_BLURRY, "blurry" },                 { SCAN_Q_SKEWED, "skewed" },
    };
    size_t used = 0;

    if (size == 0)
        return out;
    out[0] = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        int k;
        if (!(flags & names[i].bit))
            continue;
        k = snprintf(out + used, size - used, "%s%s", used ? "," : "", names[i].name);
        if (k < 0 || (size_t)k >= size - used)
            break;
        used += (size_t)k;
    }
    if (used == 0)
        /* cannot truncate: a constant shorter than any caller's buffer */
        (void)snprintf(out, size, "ok");
    return out;
}
