package org.clmr.protocol.security;

import org.clmr.protocol.UserError;
import org.clmr.protocol.config.SettingsException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ControlTokenTest {
    private static final String TOKEN = "k3J9-x_Qm2vT8pL0aZ7yW4nB6cD1eF5gH0iJ3kL8mN2";

    @TempDir
    Path dir;

    private static ControlToken fromEnv(String value) {
        return ControlToken.load(new TokenSource(Optional.empty(), "CLMR_CONTROL_TOKEN"),
                Map.of("CLMR_CONTROL_TOKEN", value)).orElseThrow();
    }

    @Test
    void shouldGenerate256RandomBitsAsBase64Url() {
        ControlToken a = ControlToken.generate();
        ControlToken b = ControlToken.generate();
        String header = a.authorization();
        assertTrue(header.matches("Bearer [A-Za-z0-9_-]{43}"), header);
        assertNotEquals(header, b.authorization());
        assertFalse(a.toString().contains(header.substring(7)), a.toString());
    }

    @Test
    void shouldWriteTheTokenOwnerOnlyAndLoadItFromTheFile() throws Exception {
        ControlToken t = ControlToken.generate();
        Path file = dir.resolve("secrets/control-token");
        t.write(file, false);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent())));
        ControlToken back = ControlToken.load(new TokenSource(Optional.of(file), "CLMR_CONTROL_TOKEN"),
                Map.of("CLMR_CONTROL_TOKEN", TOKEN)).orElseThrow();
        assertEquals(t.authorization(), back.authorization(), "the file wins over the environment");
        UserError exists = assertThrows(UserError.class, () -> ControlToken.generate().write(file, false));
        assertTrue(exists.getMessage().contains("exists; give --force"), exists.getMessage());
    }

    @Test
    void shouldLoadTheTokenFromTheEnvironmentOrNothing() {
        assertTrue(fromEnv(" " + TOKEN + "\n").matches(TOKEN));
        assertEquals(Optional.empty(), ControlToken.load(new TokenSource(Optional.empty(), "CLMR_CONTROL_TOKEN"), Map.of()));
        assertEquals(Optional.empty(), ControlToken.load(new TokenSource(Optional.empty(), ""), Map.of("", TOKEN)));
    }

    @Test
    void shouldRefuseAWeakOrBrokenTokenNamingTheSettingButNeverShowingIt() throws Exception {
        String shortToken = "hunter2-hunter2";
        SettingsException tooShort = assertThrows(SettingsException.class, () -> fromEnv(shortToken));
        assertEquals(TokenSource.ENV_KEY, tooShort.key());
        assertFalse(tooShort.getMessage().contains(shortToken), tooShort.getMessage());
        String spaced = TOKEN.substring(0, 20) + " " + TOKEN.substring(20);
        SettingsException withSpace = assertThrows(SettingsException.class, () -> fromEnv(spaced));
        assertFalse(withSpace.getMessage().contains(TOKEN.substring(0, 20)), withSpace.getMessage());

        Path file = dir.resolve("token");
        Files.writeString(file, "é" + TOKEN + "\n");
        SettingsException nonAscii = assertThrows(SettingsException.class,
                () -> ControlToken.load(new TokenSource(Optional.of(file), ""), Map.of()));
        assertEquals(TokenSource.FILE_KEY, nonAscii.key());
        assertFalse(nonAscii.getMessage().contains(TOKEN), nonAscii.getMessage());
        SettingsException missing = assertThrows(SettingsException.class,
                () -> ControlToken.load(new TokenSource(Optional.of(dir.resolve("absent")), ""), Map.of()));
        assertTrue(missing.getMessage().contains("does not exist"), missing.getMessage());
        for (SettingsException e : new SettingsException[] {tooShort, withSpace, nonAscii, missing}) {
            assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        }
    }

    @Test
    void shouldGrantOnlyTheRightBearerToken() {
        ControlToken t = fromEnv(TOKEN);
        assertEquals(ControlToken.Verdict.GRANTED, t.check("Bearer " + TOKEN));
        assertEquals(ControlToken.Verdict.GRANTED, t.check("bearer  " + TOKEN + " "));
        assertEquals(ControlToken.Verdict.GRANTED, t.check(t.authorization()));
        assertEquals(ControlToken.Verdict.MISSING, t.check(null));
        assertEquals(ControlToken.Verdict.MISSING, t.check(""));
        assertEquals(ControlToken.Verdict.MALFORMED, t.check("Basic YWxhZGRpbjpvcGVuc2VzYW1l"));
        assertEquals(ControlToken.Verdict.MALFORMED, t.check(TOKEN));
        assertEquals(ControlToken.Verdict.MALFORMED, t.check("Bearer " + TOKEN + " extra"));
        assertEquals(ControlToken.Verdict.MALFORMED, t.check("Bearer " + "a".repeat(5000)));
        assertEquals(ControlToken.Verdict.WRONG, t.check("Bearer " + TOKEN.substring(1)));
        assertEquals(ControlToken.Verdict.WRONG, t.check("Bearer " + TOKEN + "x"));
        assertEquals(ControlToken.Verdict.WRONG, t.check("Bearer " + TOKEN.replace('k', 'K')));
        assertFalse(t.matches(null));
    }

    @Test
    void shouldAnswerARefusalWith401AChallengeAndOneJsonLine() {
        for (ControlToken.Verdict v : new ControlToken.Verdict[] {ControlToken.Verdict.MISSING,
                ControlToken.Verdict.MALFORMED, ControlToken.Verdict.WRONG}) {
            assertFalse(v.granted());
            assertEquals(401, ControlToken.UNAUTHORIZED);
            assertTrue(v.challenge().startsWith("Bearer realm=\"clmr\""), v.challenge());
            assertTrue(v.json().matches("\\{\"error\":\"unauthorized\",\"reason\":\"[^\"\\n]+\"}"), v.json());
        }
        assertTrue(ControlToken.Verdict.WRONG.challenge().contains("invalid_token"));
    }
}
