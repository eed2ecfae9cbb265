package org.clmr.data.generate;

import org.clmr.data.random.Rng;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * What one generated track is made of: the truth its tags state, and the seed of everything else
 * (key, exact tempo, progression, melodies, levels, drum pattern).
 *
 * @param seed        seeds the rendering
 * @param instruments one to three instruments
 * @param drums       whether a drum kit plays
 * @param major       major or (natural) minor mode
 * @param tempo       tempo bucket
 */
public record Recipe(long seed, Set<Instrument> instruments, boolean drums, boolean major, Tempo tempo) {

    /** Tempo buckets and their BPM ranges [min, max). */
    public enum Tempo {
        SLOW(60, 90), MEDIUM(90, 130), FAST(130, 180);

        final int minBpm;
        final int maxBpm;

        Tempo(int minBpm, int maxBpm) {
            this.minBpm = minBpm;
            this.maxBpm = maxBpm;
        }

        /** The tag name. */
        public String tag() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** The generated set's tag vocabulary, in index order. */
    public static final List<String> TAGS = List.of("pluck", "organ", "pad", "bass", "bell", "drums", "major",
            "minor", "slow", "medium", "fast");

    public Recipe {
        instruments = instruments.isEmpty() ? EnumSet.noneOf(Instrument.class) : EnumSet.copyOf(instruments);
        if (instruments.isEmpty() || instruments.size() > 3) {
            throw new IllegalArgumentException("a track has one to three instruments, not " + instruments);
        }
    }

    /** Draws track {@code index}'s recipe of the set seeded by {@code setSeed}. */
    public static Recipe draw(long setSeed, int index) {
        Rng rng = Rng.of(setSeed, index, 0x7261636B);
        Instrument[] all = Instrument.values();
        int[] order = {0, 1, 2, 3, 4};
        rng.shuffle(order);
        int count = 1 + rng.nextInt(3);
        Set<Instrument> chosen = EnumSet.noneOf(Instrument.class);
        for (int i = 0; i < count; i++) {
            chosen.add(all[order[i]]);
        }
        boolean drums = rng.bernoulli(0.5);
        boolean major = rng.bernoulli(0.5);
        Tempo tempo = Tempo.values()[rng.nextInt(3)];
        return new Recipe(rng.nextLong(), chosen, drums, major, tempo);
    }

    /** The tag indices into {@link #TAGS}, ascending. */
    public int[] tags() {
        List<Integer> t = new ArrayList<>();
        for (Instrument i : instruments) {
            t.add(TAGS.indexOf(i.tag()));
        }
        if (drums) {
            t.add(TAGS.indexOf("drums"));
        }
        t.add(TAGS.indexOf(major ? "major" : "minor"));
        t.add(TAGS.indexOf(tempo.tag()));
        return t.stream().mapToInt(Integer::intValue).sorted().toArray();
    }

    /** The same tags with another seed: a different piece of music. */
    public Recipe withSeed(long newSeed) {
        return new Recipe(newSeed, instruments, drums, major, tempo);
    }
}
