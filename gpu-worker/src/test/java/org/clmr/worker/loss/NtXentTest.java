package org.clmr.worker.loss;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.stream.IntStream;

import static org.clmr.worker.Fixtures.fixture;
import static org.clmr.worker.Fixtures.floats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class NtXentTest {

    @Test
    void shouldMatchTheFloat64TorchReferenceInLossAndGradient() throws IOException {
        JsonNode f = fixture("ntxent.json");
        int n = f.get("n").asInt();
        float[] z = floats(f.get("z"));
        NtXent.Result r = NtXent.compute(z, f.get("dim").asInt(), IntStream.range(0, 2 * n).toArray(),
                NtXent.pairedPositives(new int[] {n}), 2 * n, f.get("temperature").asDouble());
        assertEquals(f.get("loss").asDouble(), r.loss(), 1e-12);
        float[] want = floats(f.get("grad"));
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], r.gradient()[i], 1e-7, "gradient element " + i);
        }
    }

    @Test
    void shouldSumPartialLossesAndGradientsOfDisjointAnchorSetsToTheWhole() throws IOException {
        JsonNode f = fixture("ntxent.json");
        int n = f.get("n").asInt();
        int dim = f.get("dim").asInt();
        float[] z = floats(f.get("z"));
        int[] pos = NtXent.pairedPositives(new int[] {n});
        NtXent.Result all = NtXent.compute(z, dim, IntStream.range(0, 2 * n).toArray(), pos, 2 * n, 0.5);
        NtXent.Result a = NtXent.compute(z, dim, new int[] {0, 5, 6}, pos, 2 * n, 0.5);
        NtXent.Result b = NtXent.compute(z, dim, new int[] {1, 2, 3, 4, 7}, pos, 2 * n, 0.5);
        assertEquals(all.loss(), a.loss() + b.loss(), 1e-12);
        float[] sum = new float[z.length];
        for (int i = 0; i < sum.length; i++) {
            sum[i] = a.gradient()[i] + b.gradient()[i];
            assertEquals(all.gradient()[i], sum[i], 1e-6);
        }
    }

    @Test
    void shouldPairViewsWithinEachRanksBlock() {
        assertArrayEquals(new int[] {2, 3, 0, 1, 5, 4}, NtXent.pairedPositives(new int[] {2, 1}));
    }
}
