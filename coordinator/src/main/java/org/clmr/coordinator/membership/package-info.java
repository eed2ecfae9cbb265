/**
 * Where membership is decided: who is admitted ({@link org.clmr.coordinator.membership.Admission}: registrations,
 * refusals, removals, the next generation), whom a collective timeout evicts
 * ({@link org.clmr.coordinator.membership.PeerTimeoutJury}), and who leaves at the next plan boundary
 * ({@link org.clmr.coordinator.membership.Draining}). Desks: they return decisions and keep only what may be lost
 * with a coordinator incarnation. Depends on {@code desk}, {@code journal} and {@code plan}.
 */
package org.clmr.coordinator.membership;
