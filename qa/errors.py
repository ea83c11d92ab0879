"""Domain exceptions: raised by the engine, turned into messages by the CLI and 4xx by the API."""


class QAError(Exception):
    """Base class for every error the engine raises on purpose."""


class UnreadableDocument(QAError):
    """A file could not be turned into text (empty, binary, broken, wrong encoding)."""


class UnsupportedFileType(UnreadableDocument):
    """The file's extension or content is not a format we read."""


class ModelUnavailable(QAError):
    """The embedding model could not be found or failed its checksum."""


class IndexMissing(QAError):
    """No built index exists yet where one was expected."""


class IndexCorrupt(QAError):
    """The index on disk is incomplete or inconsistent and must not be served."""


class BadQuestion(QAError):
    """A question (or its ``top_k``) the engine cannot take: empty once normalised, or too long."""


class DocumentNotFound(QAError):
    """No document has the requested doc_id."""


class BadUpload(QAError):
    """An uploaded file was refused (name, size or content)."""


class UploadTooLarge(BadUpload):
    """An upload is over the size limit (``QA_MAX_UPLOAD_MB``)."""


class StorageUnavailable(QAError):
    """The index or docs folder cannot be written (permissions, read-only, full): nothing changed."""


class WriterBusy(QAError):
    """Another write (a rebuild, an upload, a delete) held the documents longer than a request
    may wait (``QA_WRITE_WAIT_S``)."""


class RayUnavailable(QAError):
    """A Ray build was asked for, but Ray Data is not installed or its cluster cannot be joined."""


class AdaptationError(QAError):
    """The index or the output folder does not allow adapting the model (``qa index adapt``)."""
