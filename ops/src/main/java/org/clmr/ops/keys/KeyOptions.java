package org.clmr.ops.keys;

import org.clmr.protocol.security.CertificateAuthority;
import picocli.CommandLine;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/** The options {@code clmr keys init} and {@code clmr keys node} share: validity, key size, --force. */
final class KeyOptions {
    @Option(names = "--rsa-bits", paramLabel = "BITS", defaultValue = "" + CertificateAuthority.RSA_BITS,
            description = "RSA modulus of the new key: 2048, 3072 or 4096 (default ${DEFAULT-VALUE}; Akka 2.6 reads RSA keys only)")
    int rsaBits;

    @Option(names = "--force", description = "Replace key material that is there already")
    boolean force;

    /** The RSA size, checked. */
    int rsaBits(CommandLine cl) {
        if (rsaBits != 2048 && rsaBits != 3072 && rsaBits != 4096) {
            throw new CommandLine.ParameterException(cl, "--rsa-bits " + rsaBits + " is not one of 2048, 3072, 4096");
        }
        return rsaBits;
    }

    /** A validity in days, checked: 1 to 100 years' worth. */
    static Duration days(CommandLine cl, int days) {
        if (days < 1 || days > 36_500) {
            throw new CommandLine.ParameterException(cl, "--days " + days + " is not in [1, 36500]");
        }
        return Duration.ofDays(days);
    }

    /** A date as a line shows it. */
    static String date(java.util.Date d) {
        return DateTimeFormatter.ISO_LOCAL_DATE.format(Instant.ofEpochMilli(d.getTime()).atOffset(ZoneOffset.UTC));
    }

    /** A note when the output directory was there already and others may read it (the keys are 0600 anyway). */
    static String directoryNote(Path dir) {
        try {
            String mode = PosixFilePermissions.toString(Files.getPosixFilePermissions(dir));
            return mode.endsWith("------") ? "" : " (note: " + dir + " is " + mode + "; the key itself is rw-------)";
        } catch (java.io.IOException e) {
            // only advice: the keys were written into this directory a moment ago with their own mode
            return "";
        }
    }
}
