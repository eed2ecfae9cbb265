package org.clmr.ops;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * README.md and docs/ stay true to the code: every {@code clmr} command line in their code blocks parses and its
 * configuration loads (as {@link RunbookTest} does for the runbook), every relative link leads to a file and heading
 * that exist, every page of docs/ is linked from the README, and the README shows the test command CI runs.
 */
class DocsTest {

    private static Path root() {
        String p = System.getProperty("clmr.repo.root");
        return p != null ? Path.of(p) : Path.of("..").toAbsolutePath().normalize();
    }

    private static List<Path> docs() throws IOException {
        try (Stream<Path> files = Files.list(root().resolve("docs"))) {
            return files.filter(f -> f.toString().endsWith(".md")).sorted().collect(Collectors.toList());
        }
    }

    private static List<Path> readmeAndDocs() throws IOException {
        List<Path> out = new ArrayList<>(List.of(root().resolve("README.md")));
        out.addAll(docs());
        return out;
    }

    @Test
    void shouldUseOnlyCommandsOptionsAndKeysThatExistInTheReadmeAndDocs() throws IOException {
        int checked = 0;
        for (Path f : readmeAndDocs()) {
            for (MarkdownCode.Line l : MarkdownCode.lines(Files.readString(f))) {
                List<String> words = MarkdownCode.words(l.text());
                int at = words.indexOf("./clmr");
                if (at < 0) {
                    continue;
                }
                String where = root().relativize(f) + " line " + l.number();
                CommandCheck.check(words.subList(at + 1, words.size()), Map.of(), List.of(), where);
                checked++;
            }
        }
        assertTrue(checked >= 20, "only " + checked + " ./clmr command lines found in README.md and docs/");
    }

    @Test
    void shouldLinkOnlyToFilesAndHeadingsThatExist() throws IOException {
        List<Path> pages = readmeAndDocs();
        pages.add(root().resolve("ops").resolve("RUNBOOK.md"));
        for (Path page : pages) {
            String where = root().relativize(page).toString();
            for (String link : MarkdownCode.links(Files.readString(page))) {
                if (link.matches("^[a-z]+:.*")) {
                    continue;
                }
                int hash = link.indexOf('#');
                String file = hash < 0 ? link : link.substring(0, hash);
                Path target = file.isEmpty() ? page : page.getParent().resolve(file).normalize();
                assertTrue(Files.exists(target), where + " links to " + link + ", which does not exist");
                if (hash >= 0) {
                    String anchor = link.substring(hash + 1);
                    assertTrue(MarkdownCode.anchors(Files.readString(target)).contains(anchor),
                            where + " links to " + link + ": " + root().relativize(target) + " has no heading #" + anchor);
                }
            }
        }
    }

    @Test
    void shouldLinkEveryPageOfDocsFromTheReadme() throws IOException {
        List<String> links = MarkdownCode.links(Files.readString(root().resolve("README.md")));
        assertFalse(docs().isEmpty(), "no pages in " + root().resolve("docs"));
        for (Path page : docs()) {
            String name = "docs/" + page.getFileName();
            assertTrue(links.stream().anyMatch(l -> l.equals(name) || l.startsWith(name + "#")),
                    "README.md does not link to " + name);
        }
    }

    @Test
    void shouldShowTheTestCommandThatCiRuns() throws IOException {
        List<String> ci = Files.readAllLines(root().resolve(".ci").resolve("run")).stream()
                .map(String::strip).filter(l -> l.startsWith("mvn ")).collect(Collectors.toList());
        assertEquals(1, ci.size(), ".ci/run should run one mvn command: " + ci);
        List<String> readme = MarkdownCode.lines(Files.readString(root().resolve("README.md"))).stream()
                .map(l -> l.text().strip()).collect(Collectors.toList());
        assertTrue(readme.contains(ci.get(0)), "README.md's code blocks lack CI's test command `" + ci.get(0) + "`");
    }
}
