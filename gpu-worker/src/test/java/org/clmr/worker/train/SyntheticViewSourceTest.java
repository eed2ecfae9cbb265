package org.clmr.worker.train;

import org.clmr.data.ViewTransform;
import org.clmr.data.augment.AugmentationChain;
import org.clmr.protocol.config.ClmrConfig;
import org.clmr.protocol.run.RunSpec;
import org.clmr.worker.step.ViewPairs;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

class SyntheticViewSourceTest {

    @Test
    void shouldGiveTheSameAugmentedBatchForTheSameEpochAndStep() {
        RunSpec spec = RunSpec.from(ClmrConfig.load(null, List.of("run.model.preset=tiny")));
        SyntheticViewSource a = new SyntheticViewSource(5, 16, 4, 2187, 22050, AugmentationChain.from(spec.augment()));
        SyntheticViewSource b = new SyntheticViewSource(5, 16, 4, 2187, 22050, AugmentationChain.from(spec.augment()));
        for (int step = 0; step < 4; step++) {
            ViewPairs x = a.batch(1, step);
            ViewPairs y = b.batch(1, step);
            assertArrayEquals(x.first(), y.first(), "step " + step);
            assertArrayEquals(x.second(), y.second(), "step " + step);
            assertArrayEquals(x.first(), a.batch(1, step).first(), "step " + step + " again");
        }
        assertFalse(Arrays.equals(a.batch(1, 0).first(), a.batch(2, 0).first()), "epochs differ");
        for (int step = 0; step < 4; step++) {
            SyntheticViewSource fresh = new SyntheticViewSource(5, 16, 4, 2187, 22050, AugmentationChain.from(spec.augment()));
            assertArrayEquals(fresh.batch(0, step).first(), a.batch(0, step).first(), "fresh vs used, step " + step);
            assertArrayEquals(fresh.batch(0, step).second(), a.batch(0, step).second(), "fresh vs used, step " + step);
        }
        assertEquals(4, a.stepsPerEpoch());
        ViewPairs plain = new SyntheticViewSource(5, 16, 4, 2187, 22050, ViewTransform.IDENTITY).batch(0, 0);
        assertFalse(Arrays.equals(plain.first(), plain.second()), "two views of a track differ");
    }
}
