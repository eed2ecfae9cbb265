package org.clmr.worker.loss;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import org.clmr.worker.model.Tensors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.stream.IntStream;

import static org.clmr.worker.Fixtures.fixture;
import static org.clmr.worker.Fixtures.floats;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** NT-Xent on the device against the float64 torch fixture and against the host implementation. */
class DeviceNtXentTest {

    @BeforeAll
    static void loadEngine() {
        Engine.getEngine("PyTorch");
    }

    @Test
    void shouldMatchTheFloat64TorchReferenceInLossAndGradient() throws IOException {
        JsonNode f = fixture("ntxent.json");
        int n = f.get("n").asInt();
        int dim = f.get("dim").asInt();
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch");
             NDArray z = Tensors.upload(m, floats(f.get("z")), new Shape(2 * n, dim))) {
            DeviceNtXent.Result r = DeviceNtXent.compute(z, 0, n, 2 * n, f.get("temperature").asDouble());
            assertEquals(f.get("loss").asDouble(), Tensors.download(r.loss())[0], 1e-12);
            double[] got = Tensors.download(r.gradient());
            float[] want = floats(f.get("grad"));
            for (int i = 0; i < want.length; i++) {
                assertEquals(want[i], (float) got[i], 1e-7, "gradient element " + i);
            }
        }
    }

    /** Rank blocks of shares (3, 1): each block's partial loss and gradient equal the host's for its anchors. */
    @Test
    void shouldComputeEachRanksBlockAsTheHostDoes() throws IOException {
        JsonNode f = fixture("ntxent.json");
        int n = f.get("n").asInt();
        int dim = f.get("dim").asInt();
        float[] z = floats(f.get("z"));
        int[] shares = {n - 1, 1};
        int[] positive = NtXent.pairedPositives(shares);
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch");
             NDArray all = Tensors.upload(m, z, new Shape(2 * n, dim))) {
            int from = 0;
            for (int share : shares) {
                NtXent.Result host = NtXent.compute(z, dim, IntStream.range(from, from + 2 * share).toArray(),
                        positive, 2 * n, 0.5);
                DeviceNtXent.Result device = DeviceNtXent.compute(all, from, share, 2 * n, 0.5);
                assertEquals(host.loss(), Tensors.download(device.loss())[0], 1e-12, "block at " + from);
                double[] g = Tensors.download(device.gradient());
                for (int i = 0; i < g.length; i++) {
                    assertEquals(host.gradient()[i], (float) g[i], 1e-7, "block at " + from + ", element " + i);
                }
                from += 2 * share;
            }
        }
    }
}
