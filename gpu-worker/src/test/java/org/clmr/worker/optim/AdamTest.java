package org.clmr.worker.optim;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.JsonNode;
import org.clmr.protocol.run.OptimizerSpec;
import org.clmr.worker.Fixtures;
import org.clmr.worker.model.Param;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class AdamTest {

    @Test
    void shouldFollowTorchOptimAdamStepForStep() throws Exception {
        JsonNode f = Fixtures.fixture("adam.json");
        OptimizerSpec spec = new OptimizerSpec(f.get("lr").asDouble(), f.get("beta1").asDouble(),
                f.get("beta2").asDouble(), f.get("eps").asDouble());
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            NDArray p = m.create(Fixtures.floats(f.get("start")));
            p.setRequiresGradient(true);
            try (Adam adam = new Adam(spec, List.of(new Param("p", p)))) {
                for (int s = 0; s < f.get("grads").size(); s++) {
                    NDArray g = m.create(Fixtures.floats(f.get("grads").get(s)));
                    // accumulate the fixture's gradient into p.grad as a backward pass would
                    JniUtils.setGradMode(true);
                    try {
                        NDArray y = p.mul(g);
                        JniUtils.backward((PtNDArray) y, (PtNDArray) m.ones(y.getShape()), false, false);
                    } finally {
                        JniUtils.setGradMode(false);
                    }
                    adam.update();
                    float[] want = Fixtures.floats(f.get("after").get(s));
                    float[] got = p.toFloatArray();
                    for (int i = 0; i < want.length; i++) {
                        assertEquals(want[i], got[i], 2e-7, "step " + (s + 1) + " element " + i);
                    }
                }
                assertEquals(3, adam.step());
                assertEquals(0f, p.getGradient().abs().sum().getFloat(), "gradient consumed");
            }
        }
    }
}
