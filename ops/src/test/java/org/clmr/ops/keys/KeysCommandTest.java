package org.clmr.ops.keys;

import org.clmr.ops.Clmr;
import org.clmr.protocol.security.Binding;
import org.clmr.protocol.security.NodeSecurity;
import org.clmr.protocol.security.SecuritySettings;
import org.clmr.protocol.security.TlsSettings;
import org.clmr.protocol.security.TokenSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code clmr keys init|node|token} through the CLI: files, modes, certificates, and one line for each bad input. */
class KeysCommandTest {
    @TempDir
    Path dir;

    private record Result(int code, String out, String err) {
    }

    private static Result run(String... args) {
        CommandLine cl = Clmr.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Result(code, out.toString(), err.toString());
    }

    private static String mode(Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    private Result init(Path ca) {
        Result r = run("keys", "init", "--out", ca.toString(), "--rsa-bits", "2048");
        assertEquals(0, r.code, r.err);
        return r;
    }

    @Test
    void shouldMakeACaAndANodeCertificateThatANodeStartsWithOnAnyAddress() throws Exception {
        Path ca = dir.resolve("ca");
        Path node = dir.resolve("nodes/worker-1");
        Path token = dir.resolve("token/control-token");
        Result i = init(ca);
        assertTrue(i.out.contains("run CA CN=clmr run CA "), i.out);
        assertEquals("rwx------", mode(ca));
        assertEquals("rw-------", mode(ca.resolve("ca.key")));

        Result n = run("keys", "node", "--ca", ca.toString(), "--host", "10.0.0.7", "--host", "worker-1.clmr.svc",
                "--out", node.toString(), "--rsa-bits", "2048", "--days", "30");
        assertEquals(0, n.code, n.err);
        assertTrue(n.out.contains("node certificate for 10.0.0.7, worker-1.clmr.svc"), n.out);
        assertEquals("rwx------", mode(node));
        assertEquals("rw-------", mode(node.resolve("tls.key")));
        Result t = run("keys", "token", "--out", token.toString());
        assertEquals(0, t.code, t.err);
        assertEquals("rw-------", mode(token));
        String secret = Files.readString(token).strip();
        assertTrue(secret.matches("[A-Za-z0-9_-]{43}"), "256 bits in base64url");
        for (Result r : List.of(i, n, t)) {
            assertFalse(r.out.contains(secret) || r.out.contains("PRIVATE KEY"), r.out);
        }

        SecuritySettings settings = new SecuritySettings(false, new TlsSettings.PemDirectory(node, Duration.ofMinutes(5)),
                new TokenSource(Optional.of(token), ""), false);
        NodeSecurity security = NodeSecurity.open(settings, List.of(new Binding("clmr.worker.cluster.host", "10.0.0.7")),
                Map.of(), Clock.systemUTC());
        X509Certificate cert = security.keyMaterial().orElseThrow().certificate();
        Set<Object> sans = cert.getSubjectAlternativeNames().stream().map(l -> l.get(1)).collect(Collectors.toSet());
        assertEquals(Set.of("10.0.0.7", "worker-1.clmr.svc"), sans);
        assertTrue(cert.getNotAfter().getTime() - System.currentTimeMillis() < Duration.ofDays(31).toMillis());
        assertTrue(security.controlToken().orElseThrow().matches(secret));
    }

    @Test
    void shouldRefuseToReplaceKeyMaterialWithoutForceInOneLine() {
        Path ca = dir.resolve("ca");
        init(ca);
        Result again = run("keys", "init", "--out", ca.toString(), "--rsa-bits", "2048");
        assertEquals(1, again.code);
        assertEquals(1, again.err.strip().lines().count(), again.err);
        assertTrue(again.err.contains("ca.key exists; give --force"), again.err);
        assertEquals(0, run("keys", "init", "--out", ca.toString(), "--rsa-bits", "2048", "--force").code);

        Path node = dir.resolve("node");
        assertEquals(0, run("keys", "node", "--ca", ca.toString(), "--host", "127.0.0.1", "--out", node.toString(),
                "--rsa-bits", "2048").code);
        Result nodeAgain = run("keys", "node", "--ca", ca.toString(), "--host", "127.0.0.1", "--out", node.toString());
        assertEquals(1, nodeAgain.code);
        assertTrue(nodeAgain.err.contains("tls.key exists; give --force"), nodeAgain.err);

        Path token = dir.resolve("token");
        assertEquals(0, run("keys", "token", "--out", token.toString()).code);
        Result tokenAgain = run("keys", "token", "--out", token.toString());
        assertEquals(1, tokenAgain.code);
        assertEquals(1, tokenAgain.err.strip().lines().count(), tokenAgain.err);
    }

    @Test
    void shouldRefuseAnUnreadableCaInOneLine() throws Exception {
        Result missing = run("keys", "node", "--ca", dir.resolve("nowhere").toString(), "--host", "127.0.0.1",
                "--out", dir.resolve("node").toString());
        assertEquals(1, missing.code);
        assertEquals(1, missing.err.strip().lines().count(), missing.err);
        assertTrue(missing.err.contains("cannot read the run CA") && missing.err.contains("clmr keys init"), missing.err);
        Path ca = dir.resolve("ca");
        init(ca);
        Files.writeString(ca.resolve("ca.crt"), "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n");
        Result damaged = run("keys", "node", "--ca", ca.toString(), "--host", "127.0.0.1", "--out", dir.resolve("node").toString());
        assertEquals(1, damaged.code);
        assertEquals(1, damaged.err.strip().lines().count(), damaged.err);
        assertFalse(Files.exists(dir.resolve("node")), "nothing is written for a CA that cannot be read");
    }

    @Test
    void shouldRefuseABadHostOrNumberAsUsageInOneLine() {
        for (String[] args : List.of(
                new String[] {"keys", "node", "--ca", "ca", "--host", "10.0.0.300", "--out", "n"},
                new String[] {"keys", "node", "--ca", "ca", "--host", "worker 1", "--out", "n"},
                new String[] {"keys", "node", "--ca", "ca", "--out", "n"},
                new String[] {"keys", "init", "--out", "ca", "--rsa-bits", "1024"},
                new String[] {"keys", "init", "--out", "ca", "--days", "0"})) {
            Result r = run(args);
            assertEquals(2, r.code, String.join(" ", args) + ": " + r.err);
            assertEquals(1, r.err.strip().lines().count(), r.err);
        }
        assertTrue(run("keys", "node", "--ca", "ca", "--host", "10.0.0.300", "--out", "n").err
                .contains("--host 10.0.0.300: host 10.0.0.300 is not a valid IPv4 address"));
    }
}
