package org.clmr.worker.model;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.clmr.protocol.run.ModelSpec;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The one transfer API: real copies on the CPU too, counted, and nothing left attached to any manager. */
class TensorsTest {
    static final ModelSpec MICRO = new ModelSpec("micro", 81, 16, List.of(16, 16, 32), 5);

    @BeforeAll
    static void loadEngine() {
        Engine.getEngine("PyTorch");
    }

    @Test
    void shouldCopyBothWaysOnTheCpuAsOnAGpu() {
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            float[] data = {1, 2, 3, 4, 5, 6};
            NDArray a = Tensors.upload(m, data, new Shape(2, 3));
            NDArray b = Tensors.upload(m, new float[] {7, 8, 9, 10, 11, 12}, new Shape(2, 3));
            data[0] = 100;
            float[] back = Tensors.downloadFloats(a);
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, back, "the upload copied the host array (and was not"
                    + " overwritten by the next upload through the same staging buffer)");
            back[1] = -1;
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, Tensors.downloadFloats(a), "the download copied");
            assertArrayEquals(new float[] {7, 8, 9, 10, 11, 12}, Tensors.downloadFloats(b));
            assertArrayEquals(new double[] {21}, Tensors.download(a.sum()), 0.0, "a 0-d tensor");
        }
    }

    @Test
    void shouldCountEveryTransferOfItsThread() {
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            Tensors.Count before = Tensors.count();
            NDArray a = Tensors.upload(m, new double[] {1, 2, 3}, new Shape(3), DataType.FLOAT64);
            Tensors.download(a);
            List<NDArray> rows = Tensors.uploadRows(m, List.of(new float[5], new float[5]), new Shape(5));
            Tensors.Count moved = Tensors.count().since(before);
            assertEquals(3, moved.transfers());
            assertEquals(24 + 24 + 2 * 16 * 4, moved.bytes(), "the rows travel padded to 64 bytes each");
            assertEquals(new Shape(5), rows.get(1).getShape());
        }
    }

    /**
     * A parameter's values come down and go up again without leaving anything in the network's manager,
     * where DJL's own copy of it stays (on a GPU its toFloatArray leaves such a copy on every call).
     */
    @Test
    void shouldLeaveNothingInTheManagerOfTheArraysItCopies() {
        try (ClmrNetwork net = ClmrNetwork.create(MICRO, 3, Device.cpu())) {
            NDArray w = net.params().get(4).value();
            NativeResources.Count before = NativeResources.of(net.manager());
            float[] v = Tensors.downloadFloats(w);
            Tensors.overwrite(w, v);
            net.fingerprint();
            assertEquals(before, NativeResources.of(net.manager()));
            w.toDevice(Device.cpu(), true);
            assertEquals(before.arrays() + 1, NativeResources.of(net.manager()).arrays(),
                    "the count sees the copy DJL's toDevice attaches to the parameter's manager");
        }
    }

    @Test
    void shouldOverwriteInPlaceKeepingTheGradientAndClearingNaN() {
        try (ClmrNetwork net = ClmrNetwork.create(MICRO, 3, Device.cpu())) {
            NDArray w = net.params().get(0).value();
            float[] nan = new float[Math.toIntExact(w.size())];
            java.util.Arrays.fill(nan, Float.NaN);
            Tensors.overwrite(w, nan);
            float[] clean = new float[nan.length];
            clean[2] = 0.5f;
            Tensors.overwrite(w, clean);
            assertArrayEquals(clean, Tensors.downloadFloats(w));
            assertTrue(w.hasGradient());
        }
    }
}
