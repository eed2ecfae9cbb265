package org.clmr.worker.model;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * No main source of the worker copies between device and host but {@link Tensors}: DJL's copies to the
 * host attach what they make to the source's manager (a parameter's lives as long as the network), and
 * on the CPU they are no copies at all, so no test would see them leak on a GPU.
 */
class TransferPathTest {
    static final Pattern DJL_COPY = Pattern.compile(
            "\\.(toFloatArray|toDoubleArray|toByteBuffer|toDevice)\\(|\\.(getFloat|getDouble)\\(\\)");

    @Test
    void shouldCopyBetweenDeviceAndHostOnlyThroughTensors() throws IOException {
        Path main = Path.of("src/main/java/org/clmr/worker");
        List<String> found = new ArrayList<>();
        try (Stream<Path> files = Files.walk(main)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                if (f.getFileName().toString().equals("Tensors.java")) {
                    continue;
                }
                List<String> lines = Files.readAllLines(f);
                for (int i = 0; i < lines.size(); i++) {
                    Matcher m = DJL_COPY.matcher(lines.get(i));
                    if (m.find() && !lines.get(i).trim().startsWith("*")) {
                        found.add(main.relativize(f) + ":" + (i + 1) + " " + lines.get(i).trim());
                    }
                }
            }
        }
        assertEquals(List.of(), found);
    }
}
