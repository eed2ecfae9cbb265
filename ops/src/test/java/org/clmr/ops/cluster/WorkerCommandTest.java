package org.clmr.ops.cluster;

import org.clmr.ops.Clmr;
import org.clmr.worker.device.DeviceInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code clmr worker} argument checks, {@code clmr worker drain}, and the {@code --devices} supervisor's restarts. */
class WorkerCommandTest {
    private record Run(int code, String out, String err) {
    }

    private static Run clmr(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Clmr.commandLine().setOut(new PrintWriter(out)).setErr(new PrintWriter(err)).execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void shouldRefuseDeviceAndDevicesTogetherAMissingSeedOrAGpuThisMachineLacks(@TempDir Path dir) {
        Run both = clmr("worker", "--seed-nodes", "127.0.0.1:1", "--dataset", dir.toString(), "--device", "cpu",
                "--devices", "all");
        assertEquals(2, both.code(), both.err());
        assertTrue(both.err().contains("exclude each other"), both.err());
        Run noSeed = clmr("worker", "--dataset", dir.toString());
        assertEquals(2, noSeed.code(), noSeed.err());
        assertTrue(noSeed.err().contains("--seed-nodes"), noSeed.err());
        Run gpu = clmr("worker", "--seed-nodes", "127.0.0.1:1", "--dataset", dir.toString(), "--devices", "cuda:7");
        assertEquals(2, gpu.code(), gpu.err());
        assertTrue(gpu.err().contains("names cuda:7 but this machine has"), gpu.err());
    }

    @Test
    void shouldNeedAWorkerIdAndAReachableCoordinatorToDrain() {
        Run noId = clmr("worker", "drain");
        assertEquals(2, noId.code(), noId.err());
        assertTrue(noId.err().contains("--worker"), noId.err());
        Run unreachable = clmr("worker", "drain", "--worker", "h/cpu/1", "--coordinator", "127.0.0.1:1");
        assertEquals(1, unreachable.code(), unreachable.err());
        assertTrue(unreachable.err().contains("cannot reach a coordinator at http://127.0.0.1:1"), unreachable.err());
    }

    /** A GPU worker sees its GPU only, in PCI bus order, with deterministic cuBLAS and TF32 off unless allowed. */
    @Test
    void shouldGiveEachGpuWorkerItsCudaEnvironment() {
        List<DeviceInfo> devices = List.of(new DeviceInfo("cuda:0", "A", 1L << 30, 0), new DeviceInfo("cuda:3", "B", 1L << 30, 0),
                new DeviceInfo("cpu", "C", 1L << 30, 2));
        PrintWriter out = new PrintWriter(new StringWriter());
        WorkerSupervisor off = new WorkerSupervisor(devices, List.of(), 0, false, out);
        assertEquals(java.util.Map.of("CUDA_VISIBLE_DEVICES", "3", "CUDA_DEVICE_ORDER", "PCI_BUS_ID",
                "CUBLAS_WORKSPACE_CONFIG", ":4096:8", "NVIDIA_TF32_OVERRIDE", "0"), off.childEnvironment(1));
        assertEquals("0", off.childEnvironment(0).get("CUDA_VISIBLE_DEVICES"));
        assertEquals(java.util.Map.of(), off.childEnvironment(2), "the CPU worker's environment is this process's");
        WorkerSupervisor allowed = new WorkerSupervisor(devices, List.of(), 0, true, out);
        assertTrue(!allowed.childEnvironment(1).containsKey("NVIDIA_TF32_OVERRIDE"));
        assertEquals(List.of("worker", "--device", "cuda:3"), off.childArgs(1), "the worker names its GPU as nvidia-smi does");
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void shouldRestartAFailingWorkerUpToMaxRestartsThenReportIt(@TempDir Path dir) {
        StringWriter out = new StringWriter();
        List<String> common = List.of("--seed-nodes", "127.0.0.1:1", "--dataset", dir.resolve("absent").toString());
        WorkerSupervisor once = new WorkerSupervisor(List.of(new DeviceInfo("cpu", "test", 0, 1)), common, 1,
                new PrintWriter(out));
        assertEquals(List.of("worker", "--device", "cpu", "--seed-nodes", "127.0.0.1:1", "--dataset",
                dir.resolve("absent").toString()), once.childArgs(0));
        List<String> failed = once.run();
        assertEquals(List.of("cpu exited 1 after 1 restarts"), failed, out.toString());
        assertEquals(2, out.toString().split("started worker on cpu", -1).length - 1, out.toString());
        assertTrue(out.toString().contains("[cpu] clmr worker: "), out.toString());
    }
}
