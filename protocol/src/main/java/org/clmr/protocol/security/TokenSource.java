package org.clmr.protocol.security;

import java.nio.file.Path;
import java.util.Optional;

/**
 * Where the control token comes from ({@code clmr.security.control-token}): a file, else an environment variable.
 * The token itself is never part of the configuration. Immutable.
 *
 * @param file        absolute path of the token file, if one is set
 * @param environment name of the environment variable read when no file is set; empty: none
 */
public record TokenSource(Optional<Path> file, String environment) {
    /** The settings' prefix. */
    public static final String PREFIX = SecuritySettings.PREFIX + ".control-token";
    /** The setting that names the token file. */
    public static final String FILE_KEY = PREFIX + ".file";
    /** The setting that names the environment variable. */
    public static final String ENV_KEY = PREFIX + ".env";
}
