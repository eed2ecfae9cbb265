package org.clmr.protocol.process;

import java.io.File;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Starts another JVM of ours: the running JVM's {@code java}, our {@link JvmFlags}, the running class
 * path (or one given), a main class and arguments. Used by the launcher of a local cluster and by every
 * multi-process test.
 */
public final class JavaProcess {
    private final String mainClass;
    private final List<String> args = new ArrayList<>();
    private final List<String> jvmArgs = new ArrayList<>();
    private final Map<String, String> systemProperties = new TreeMap<>();
    private final Map<String, String> environment = new TreeMap<>();
    private String classPath = System.getProperty("java.class.path");
    private String maxHeap = "1g";
    private Path workingDirectory;
    private Path outputFile;
    private boolean pipe;

    private JavaProcess(String mainClass) {
        this.mainClass = mainClass;
    }

    /** A process running {@code mainClass}'s {@code main}. */
    public static JavaProcess of(Class<?> mainClass) {
        return new JavaProcess(mainClass.getName());
    }

    /** A process running the named main class. */
    public static JavaProcess of(String mainClass) {
        return new JavaProcess(mainClass);
    }

    public JavaProcess args(String... a) {
        args.addAll(List.of(a));
        return this;
    }

    public JavaProcess args(List<String> a) {
        args.addAll(a);
        return this;
    }

    public JavaProcess jvmArg(String a) {
        jvmArgs.add(a);
        return this;
    }

    public JavaProcess systemProperty(String key, String value) {
        systemProperties.put(key, value);
        return this;
    }

    public JavaProcess env(String key, String value) {
        environment.put(key, value);
        return this;
    }

    public JavaProcess classPath(String cp) {
        this.classPath = cp;
        return this;
    }

    public JavaProcess maxHeap(String heap) {
        this.maxHeap = heap;
        return this;
    }

    public JavaProcess workingDirectory(Path dir) {
        this.workingDirectory = dir;
        return this;
    }

    /** Sends stdout and stderr, merged, to this file (appending); by default they are inherited. */
    public JavaProcess output(Path file) {
        this.outputFile = file;
        return this;
    }

    /** Leaves stdout and stderr (merged) to be read from {@link Process#getInputStream()}. */
    public JavaProcess pipeOutput() {
        this.pipe = true;
        return this;
    }

    /** The full command line. */
    public List<String> command() {
        List<String> cmd = new ArrayList<>();
        cmd.add(javaExecutable());
        cmd.addAll(JvmFlags.flags());
        cmd.addAll(JvmFlags.forCommand(args));
        cmd.add("-Xmx" + maxHeap);
        cmd.addAll(jvmArgs);
        systemProperties.forEach((k, v) -> cmd.add("-D" + k + "=" + v));
        cmd.add("-cp");
        cmd.add(classPath);
        cmd.add(mainClass);
        cmd.addAll(args);
        return cmd;
    }

    /** Starts it. */
    public Process start() {
        ProcessBuilder pb = new ProcessBuilder(command());
        pb.environment().putAll(environment);
        NativeEnv.applyTo(pb.environment());
        if (workingDirectory != null) {
            pb.directory(workingDirectory.toFile());
        }
        if (pipe) {
            pb.redirectErrorStream(true);
        } else if (outputFile != null) {
            pb.redirectErrorStream(true);
            pb.redirectOutput(ProcessBuilder.Redirect.appendTo(outputFile.toFile()));
        } else {
            pb.inheritIO();
        }
        try {
            return pb.start();
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot start a JVM for " + mainClass + ": " + e.getMessage(), e);
        }
    }

    /** The {@code java} of the running JVM. */
    public static String javaExecutable() {
        return ProcessHandle.current().info().command()
                .orElse(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java");
    }
}
