package org.clmr.ops.keys;

import org.clmr.protocol.security.CertificateAuthority;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.Callable;

/** {@code clmr keys init --out DIR}: a new run CA, {@code ca.key} (0600) and its self-signed {@code ca.crt}. */
@Command(name = "init", mixinStandardHelpOptions = true,
        description = {"Create a run CA: DIR/ca.key (0600) and its self-signed certificate DIR/ca.crt.",
                "It signs the certificate of every node of the run (clmr keys node); keep ca.key off the nodes."})
public final class KeysInitCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    KeyOptions keys;

    @Option(names = "--out", paramLabel = "DIR", required = true, description = "Directory for ca.key and ca.crt (created 0700)")
    Path out;

    @Option(names = "--days", paramLabel = "N", defaultValue = "3650",
            description = "Validity of the CA certificate in days, which bounds every node certificate's (default ${DEFAULT-VALUE})")
    int days;

    @Override
    public Integer call() {
        int bits = keys.rsaBits(spec.commandLine());
        java.time.Duration validity = KeyOptions.days(spec.commandLine(), days);
        CertificateAuthority.refuseExisting(out, keys.force);
        CertificateAuthority ca = CertificateAuthority.create(validity, bits, Clock.systemUTC());
        ca.write(out, keys.force);
        PrintWriter w = spec.commandLine().getOut();
        w.println("run CA " + ca.certificate().getSubjectX500Principal().getName() + ", valid until "
                + KeyOptions.date(ca.certificate().getNotAfter()) + ": " + out.resolve(CertificateAuthority.KEY_FILE)
                + " (0600)" + KeyOptions.directoryNote(out) + ", " + out.resolve(CertificateAuthority.CERT_FILE));
        w.println("next, for every node: clmr keys node --ca " + out + " --host HOST --out NODE_DIR");
        w.flush();
        return 0;
    }
}
