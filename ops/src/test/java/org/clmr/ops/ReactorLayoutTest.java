package org.clmr.ops;

import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import javax.xml.parsers.DocumentBuilderFactory;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The dependency directions of DESIGN.md's module table hold in the poms. */
class ReactorLayoutTest {
    private static final Map<String, Set<String>> ALLOWED = Map.of(
            "protocol", Set.of(),
            "data-loader", Set.of("protocol"),
            "gpu-worker", Set.of("protocol", "data-loader"),
            "coordinator", Set.of("protocol"),
            "evaluation", Set.of("protocol", "data-loader", "gpu-worker"),
            "ops", Set.of("protocol", "data-loader", "gpu-worker", "coordinator", "evaluation"));

    private static Path root() {
        String p = System.getProperty("clmr.repo.root");
        return p != null ? Path.of(p) : Path.of("..").toAbsolutePath().normalize();
    }

    @Test
    void shouldFollowTheModuleTable() throws Exception {
        for (Map.Entry<String, Set<String>> e : ALLOWED.entrySet()) {
            Set<String> internal = new HashSet<>();
            Set<String> groups = new HashSet<>();
            Document doc = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                    .parse(root().resolve(e.getKey()).resolve("pom.xml").toFile());
            NodeList deps = doc.getElementsByTagName("dependency");
            for (int i = 0; i < deps.getLength(); i++) {
                Element d = (Element) deps.item(i);
                String group = d.getElementsByTagName("groupId").item(0).getTextContent();
                String artifact = d.getElementsByTagName("artifactId").item(0).getTextContent();
                groups.add(group);
                if (group.equals("org.clmr")) {
                    internal.add(artifact);
                }
            }
            assertTrue(e.getValue().containsAll(internal), e.getKey() + " depends on " + internal);
            if (!Set.of("gpu-worker").contains(e.getKey())) {
                assertFalse(groups.stream().anyMatch(g -> g.startsWith("ai.djl")), e.getKey() + " must not declare DJL");
            }
        }
    }
}
