package org.clmr.protocol.process;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The JVM flags every process of ours needs (Agrona's UnsafeBuffer, Artery, DJL offline). Defined once,
 * as the parent pom's {@code clmr.jvm.flags}; Maven filters them into the resource read here, into
 * surefire's argLine and into the distribution's jvm.options that the launcher reads.
 */
public final class JvmFlags {
    /**
     * The environment variable that names the coordinator's class-data archive (AppCDS; the {@code clmr} launcher
     * writes it once per build with {@code CoordinatorClassData} and sets this for every process it starts).
     */
    public static final String CLASS_DATA_ENV = "CLMR_COORDINATOR_CLASS_DATA";
    private static final List<String> FLAGS = load("/clmr-jvm.options");
    private static final List<String> COORDINATOR_FLAGS = load("/clmr-coordinator-jvm.options");

    private JvmFlags() {
    }

    /** The flags, one per element. */
    public static List<String> flags() {
        return FLAGS;
    }

    /**
     * What a JVM running the {@code clmr} command line {@code args} adds to {@link #flags()}: for a coordinator
     * ({@code clmr coordinator ...}) the parent pom's {@code clmr.coordinator.jvm.flags} and, where the environment
     * names an existing class-data archive ({@value #CLASS_DATA_ENV}), that archive (a JVM whose class path does
     * not match it ignores it); nothing for other commands.
     */
    public static List<String> forCommand(List<String> args) {
        if (args.isEmpty() || !args.get(0).equals("coordinator")) {
            return List.of();
        }
        List<String> flags = new ArrayList<>(COORDINATOR_FLAGS);
        String archive = System.getenv(CLASS_DATA_ENV);
        if (archive != null && !archive.isBlank() && Files.isRegularFile(Path.of(archive))) {
            flags.add("-XX:SharedArchiveFile=" + archive);
        }
        return List.copyOf(flags);
    }

    private static List<String> load(String resource) {
        try (InputStream in = JvmFlags.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException(resource + " missing from the class path: rebuild with mvn package");
            }
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
            if (text.contains("${")) {
                throw new IllegalStateException(resource + " was not filtered by Maven: rebuild with mvn package");
            }
            return text.isEmpty() ? List.of() : List.copyOf(Arrays.asList(text.split("\\s+")));
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + resource, e);
        }
    }
}
