package org.clmr.eval.probe;

import org.clmr.data.random.Rng;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A class-balanced subset of a fraction of the labelled training clips (the paper's Section 4.4:
 * heads trained on 1%, 10%, ... of the labels). Every tag keeps about the same fraction of its positive
 * clips, and at least one, so rare tags are not lost; the rest of the budget is drawn uniformly. Pure.
 */
public final class LabelSubset {
    private LabelSubset() {
    }

    /**
     * Chooses the subset, greedily in the manner of iterative stratification (Sechidis et al., 2011).
     *
     * <p>Budget {@code n = max(1, round(fraction * clips))}; each tag's quota is
     * {@code max(1, round(fraction * positives))}. Tags are visited rarest first; while a tag is under its
     * quota, the clip carrying it that carries the fewest tags already at their quota is added (ties: a
     * seeded random order). The rest of the budget goes to the clips carrying the fewest tags, so that no
     * tag is pushed far past its quota. Quotas may push the subset past {@code n} when the fraction is tiny
     * and the tags many.
     *
     * @param labels   [clips][tags]
     * @param fraction in (0, 1]; 1 returns every clip
     * @param seed     the draw's seed
     * @return chosen clip indices, ascending
     */
    public static int[] classBalanced(boolean[][] labels, double fraction, long seed) {
        if (!(fraction > 0 && fraction <= 1)) {
            throw new IllegalArgumentException("label fraction must be in (0, 1], got " + fraction);
        }
        int clips = labels.length;
        if (fraction == 1.0 || clips == 0) {
            int[] all = new int[clips];
            Arrays.setAll(all, i -> i);
            return all;
        }
        int tags = labels[0].length;
        int budget = (int) Math.max(1, Math.round(fraction * clips));
        int[] positives = new int[tags];
        for (boolean[] row : labels) {
            for (int t = 0; t < tags; t++) {
                positives[t] += row[t] ? 1 : 0;
            }
        }
        int[] quota = new int[tags];
        for (int t = 0; t < tags; t++) {
            quota[t] = positives[t] == 0 ? 0 : (int) Math.max(1, Math.round(fraction * positives[t]));
        }
        List<Integer> order = new ArrayList<>();
        for (int c = 0; c < clips; c++) {
            order.add(c);
        }
        shuffle(order, Rng.of(seed, 0x1abe15L));
        Integer[] byRarity = new Integer[tags];
        Arrays.setAll(byRarity, t -> t);
        Arrays.sort(byRarity, (a, b) -> positives[a] != positives[b] ? Integer.compare(positives[a], positives[b]) : Integer.compare(a, b));
        boolean[] chosen = new boolean[clips];
        int[] held = new int[tags];
        int size = 0;
        for (int t : byRarity) {
            while (held[t] < quota[t]) {
                int best = -1;
                int bestOvershoot = Integer.MAX_VALUE;
                for (int c : order) {
                    if (!chosen[c] && labels[c][t]) {
                        int o = overshoot(labels[c], held, quota);
                        if (o < bestOvershoot) {
                            best = c;
                            bestOvershoot = o;
                        }
                    }
                }
                size += take(best, labels, chosen, held);
            }
        }
        List<Integer> rest = new ArrayList<>();
        for (int c : order) {
            if (!chosen[c]) {
                rest.add(c);
            }
        }
        rest.sort((a, b) -> Integer.compare(overshoot(labels[a], held, quota), overshoot(labels[b], held, quota)));
        for (int k = 0; k < rest.size() && size < budget; k++) {
            size += take(rest.get(k), labels, chosen, held);
        }
        int[] out = new int[size];
        int k = 0;
        for (int c = 0; c < clips; c++) {
            if (chosen[c]) {
                out[k++] = c;
            }
        }
        return out;
    }

    /** How many of a clip's tags are already at or past their quota. */
    private static int overshoot(boolean[] row, int[] held, int[] quota) {
        int n = 0;
        for (int t = 0; t < row.length; t++) {
            if (row[t] && held[t] >= quota[t]) {
                n++;
            }
        }
        return n;
    }

    private static int take(int clip, boolean[][] labels, boolean[] chosen, int[] held) {
        chosen[clip] = true;
        for (int t = 0; t < held.length; t++) {
            held[t] += labels[clip][t] ? 1 : 0;
        }
        return 1;
    }

    private static void shuffle(List<Integer> list, Rng rng) {
        for (int i = list.size() - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            Integer tmp = list.get(i);
            list.set(i, list.get(j));
            list.set(j, tmp);
        }
    }
}
