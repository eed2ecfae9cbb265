package org.clmr.protocol.security;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import org.clmr.protocol.config.ClmrConfig;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RedactionTest {
    @Test
    void shouldKnowSecretKeysByTheirLastElement() {
        for (String k : List.of("clmr.coordinator.database.password", "clmr.security.tls.key-store-password",
                "akka.remote.artery.ssl.config-ssl-engine.key-password", "a.b.api-token", "x.\"client-secret\"",
                "y.PASSPHRASE")) {
            assertTrue(Redaction.isSecretKey(k), k);
        }
        for (String k : List.of("clmr.security.control-token.file", "clmr.security.control-token.env",
                "akka.remote.artery.ssl.rotating-keys-engine.secret-mount-point", "clmr.coordinator.database.user",
                "clmr.password-policy.min-length")) {
            assertFalse(Redaction.isSecretKey(k), k);
        }
    }

    @Test
    void shouldRedactPasswordsInsideUrls() {
        assertEquals("jdbc:postgresql://db:5432/clmr?user=clmr&password=<redacted>&ssl=true",
                Redaction.redactUrl("jdbc:postgresql://db:5432/clmr?user=clmr&password=s3cr3t&ssl=true"));
        assertEquals("postgres://clmr:<redacted>@db:5432/clmr", Redaction.redactUrl("postgres://clmr:s3cr3t@db:5432/clmr"));
        assertEquals("jdbc:h2:file:/r/coordinator;AUTO_SERVER=TRUE;PASSWORD=<redacted>",
                Redaction.redactUrl("jdbc:h2:file:/r/coordinator;AUTO_SERVER=TRUE;PASSWORD=s3cr3t"));
        assertEquals("jdbc:postgresql://db:5432/clmr", Redaction.redactUrl("jdbc:postgresql://db:5432/clmr"));
    }

    @Test
    void shouldRenderTheConfigurationWithoutAnySecretAndWithEverythingElse() {
        // other modules' keys (not on this module's class path) as a --config file would give them
        Config others = ConfigFactory.parseString("clmr.coordinator.database { user = sa, password = s3cr3t-db }\n"
                + "clmr.worker.cluster.checkpoint.url = \"jdbc:postgresql://db/clmr?password=s3cr3t-url\"");
        Config c = others.withFallback(ClmrConfig.load(null, List.of("security.tls.key-store-password=12345678",
                "security.tls.key-store=/k/node.p12", "security.tls.trust-store=/k/trust.p12", "run.seed=7")));
        String rendered = ClmrConfig.render(Redaction.redact(c));
        assertFalse(rendered.contains("s3cr3t") || rendered.contains("12345678"), rendered);
        assertTrue(rendered.contains("password=\"" + Redaction.REDACTED + "\""), rendered);
        assertTrue(rendered.contains("key-store-password=\"" + Redaction.REDACTED + "\""), rendered);
        assertTrue(rendered.contains("trust-store-password=\"\""), "an unset password shows as unset: " + rendered);
        assertTrue(rendered.contains("seed=7") && rendered.contains("/k/node.p12") && rendered.contains("user=sa"), rendered);
        assertEquals(c.getInt("clmr.run.seed"), Redaction.redact(c).getInt("clmr.run.seed"));
        Config akka = ConfigFactory.parseMap(ArteryTls.akkaSettings(SecuritySettings.from(c).tls()));
        assertFalse(Redaction.redact(akka).root().render().contains("12345678"));
    }
}
