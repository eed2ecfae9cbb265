package org.clmr.protocol.process;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * The JVM flags every process of ours needs (Agrona's UnsafeBuffer, Artery, DJL offline). Defined once,
 * as the parent pom's {@code clmr.jvm.flags}; Maven filters them into the resource read here, into
 * surefire's argLine and into the distribution's jvm.options that the launcher reads.
 */
public final class JvmFlags {
    private static final List<String> FLAGS = load();

    private JvmFlags() {
    }

    /** The flags, one per element. */
    public static List<String> flags() {
        return FLAGS;
    }

    private static List<String> load() {
        try (InputStream in = JvmFlags.class.getResourceAsStream("/clmr-jvm.options")) {
            if (in == null) {
                throw new IllegalStateException("clmr-jvm.options missing from the class path: rebuild with mvn package");
            }
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
            if (text.contains("${")) {
                throw new IllegalStateException("clmr-jvm.options was not filtered by Maven: rebuild with mvn package");
            }
            return List.copyOf(Arrays.asList(text.split("\\s+")));
        } catch (IOException e) {
            throw new IllegalStateException("cannot read clmr-jvm.options", e);
        }
    }
}
