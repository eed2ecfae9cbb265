package org.clmr.protocol.security;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HostsTest {
    @Test
    void shouldTakeIpAddressesAndDnsNames() {
        assertEquals("10.0.0.7", Hosts.normalize("10.0.0.7"));
        assertEquals("::1", Hosts.normalize("[::1]"));
        assertEquals("fe80::1", Hosts.normalize("fe80::1"));
        assertEquals("worker-1.clmr.svc.cluster.local", Hosts.normalize("Worker-1.clmr.svc.cluster.local"));
        assertEquals("localhost", Hosts.normalize("localhost"));
        assertTrue(Hosts.isIpAddress("[::1]"));
        assertFalse(Hosts.isIpAddress("localhost"));
    }

    @Test
    void shouldRefuseWhatIsNeitherWithOneLineNamingIt() {
        for (String bad : new String[] {"", " ", "10.0.0.300", "host name", "-worker", "a..b", "*.clmr.svc", "worker_1",
                "http://10.0.0.7", "10.0.0.7:25520", "x".repeat(64) + ".svc"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Hosts.normalize(bad), bad);
            assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        }
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Hosts.normalize("10.0.0.300")).getMessage()
                .contains("not a valid IPv4 address"));
    }
}
