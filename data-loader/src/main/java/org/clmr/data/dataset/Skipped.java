package org.clmr.data.dataset;

/**
 * An input file that {@code clmr prepare} left out, and why.
 *
 * @param source the file (or CSV row) as given
 * @param reason one line, e.g. {@code too short: 0.40 s < 1.00 s}
 */
public record Skipped(String source, String reason) {
}
