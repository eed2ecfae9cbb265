package org.clmr.protocol;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The build's version and the worker/coordinator protocol version, filtered in by Maven. */
public final class BuildInfo {
    private static final Properties PROPS = load();

    private BuildInfo() {
    }

    /** The project version, e.g. {@code 0.1.0-SNAPSHOT}. */
    public static String version() {
        return PROPS.getProperty("version", "unknown");
    }

    /** The version of the messages between workers and the coordinator; registrations must match it. */
    public static int protocolVersion() {
        return Integer.parseInt(PROPS.getProperty("protocol-version", "0"));
    }

    private static Properties load() {
        Properties p = new Properties();
        try (InputStream in = BuildInfo.class.getResourceAsStream("/clmr-build.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read clmr-build.properties", e);
        }
        return p;
    }
}
