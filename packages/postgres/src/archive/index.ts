export {
  type ArchiveResult,
  archiveBefore,
  archiveStream,
  type ReadArchiveOptions,
  readArchive,
} from './archive.js';
