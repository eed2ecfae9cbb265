package org.clmr.protocol.process;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The environment variables every process of ours gets (glibc malloc settings that keep PyTorch's freed
 * tensor memory mapped between steps). Defined once, as the parent pom's {@code clmr.native.env}; Maven
 * filters them into the resource read here, into the distribution's native.env that the launcher exports,
 * and surefire sets them for its forks. A variable already set in the environment wins, so an operator can
 * override any of them.
 */
public final class NativeEnv {
    private static final Map<String, String> VARIABLES = load();

    private NativeEnv() {
    }

    /** The variables, in their declared order. */
    public static Map<String, String> variables() {
        return VARIABLES;
    }

    /** Adds every variable that {@code environment} does not set yet (a child's ProcessBuilder environment). */
    public static void applyTo(Map<String, String> environment) {
        VARIABLES.forEach(environment::putIfAbsent);
    }

    static Map<String, String> parse(String text) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String pair : text.trim().split("\\s+")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            if (eq <= 0) {
                throw new IllegalStateException("clmr-native.env: '" + pair + "' is not NAME=VALUE");
            }
            out.put(pair.substring(0, eq), pair.substring(eq + 1));
        }
        return java.util.Collections.unmodifiableMap(out);
    }

    private static Map<String, String> load() {
        try (InputStream in = NativeEnv.class.getResourceAsStream("/clmr-native.env")) {
            if (in == null) {
                throw new IllegalStateException("clmr-native.env missing from the class path: rebuild with mvn package");
            }
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            if (text.contains("${")) {
                throw new IllegalStateException("clmr-native.env was not filtered by Maven: rebuild with mvn package");
            }
            return parse(text);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read clmr-native.env", e);
        }
    }
}
