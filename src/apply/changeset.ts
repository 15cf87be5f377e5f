/** The change-set model moved to src/changeset/model.ts (render must not import src/apply); kept for existing importers. */
export * from '../changeset/model.js';
