package org.clmr.ops.keys;

import org.clmr.protocol.security.CertificateAuthority;
import org.clmr.protocol.security.Hosts;
import org.clmr.protocol.security.NodeCertificate;
import org.clmr.protocol.security.TlsSettings;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code clmr keys node --ca DIR --host H [--host H2 ...] --out DIR}: a node's key and certificate, signed by the
 * run CA, in the layout of a Kubernetes TLS Secret ({@code tls.key}, {@code tls.crt}, {@code ca.crt}), which is
 * what {@code clmr.security.tls.key-dir} takes.
 */
@Command(name = "node", mixinStandardHelpOptions = true,
        description = {"Create a node's key and certificate, signed by the run CA: DIR/tls.key (0600), DIR/tls.crt,",
                "DIR/ca.crt (a Kubernetes TLS Secret's layout). Point clmr.security.tls.key-dir at DIR.",
                "The certificate names every --host (IP address or DNS name) and serves as TLS server and client."})
public final class KeysNodeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    KeyOptions keys;

    @Option(names = "--ca", paramLabel = "DIR", required = true, description = "The run CA's directory (clmr keys init --out DIR)")
    Path ca;

    @Option(names = "--host", paramLabel = "HOST", required = true,
            description = "An IP address or DNS name peers and clients reach the node at; repeat for each")
    List<String> hosts = new ArrayList<>();

    @Option(names = "--out", paramLabel = "DIR", required = true, description = "Directory for tls.key, tls.crt, ca.crt (created 0700)")
    Path out;

    @Option(names = "--days", paramLabel = "N", defaultValue = "365",
            description = "Validity in days, at most the CA's (default ${DEFAULT-VALUE})")
    int days;

    @Override
    public Integer call() {
        CommandLine cl = spec.commandLine();
        int bits = keys.rsaBits(cl);
        java.time.Duration validity = KeyOptions.days(cl, days);
        List<String> names = new ArrayList<>();
        for (String h : hosts) {
            try {
                names.add(Hosts.normalize(h));
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(cl, "--host " + h + ": " + e.getMessage());
            }
        }
        NodeCertificate.refuseExisting(out, keys.force);
        CertificateAuthority authority = CertificateAuthority.read(ca);
        NodeCertificate node = authority.issue(names, validity, bits, Clock.systemUTC());
        node.write(out, keys.force);
        PrintWriter w = cl.getOut();
        w.println("node certificate for " + String.join(", ", names) + ", valid until "
                + KeyOptions.date(node.certificate().getNotAfter()) + ": " + out.resolve(NodeCertificate.KEY_FILE) + " (0600)"
                + KeyOptions.directoryNote(out) + ", " + out.resolve(NodeCertificate.CERT_FILE) + ", "
                + out.resolve(NodeCertificate.CA_FILE));
        w.println("use it with --set " + TlsSettings.PemDirectory.KEY + "=" + out.toAbsolutePath());
        w.flush();
        return 0;
    }
}
