package org.clmr.data.prepare;

import org.clmr.data.dataset.Skipped;

import java.util.List;

/**
 * What an input format found: the tag vocabulary, the files to decode in storage order, and the
 * entries it already left out (a missing file, a bad CSV row, a file that is not audio).
 *
 * @param tags    tag vocabulary
 * @param tracks  files to decode, in the order they are to be stored
 * @param skipped entries left out, with reasons
 */
public record Listing(List<String> tags, List<SourceTrack> tracks, List<Skipped> skipped) {
}
