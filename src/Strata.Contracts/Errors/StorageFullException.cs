namespace Strata.Contracts.Errors;

/// <summary>The disk holding Strata's data is full (or the user's quota is spent): nothing of the request was kept.
/// Becomes a 507 (Insufficient Storage); the same request succeeds once space is freed.</summary>
public sealed class StorageFullException(string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>Whether <paramref name="exception"/> (or one it wraps) is a write refused for lack of space: an I/O error
    /// ENOSPC or EDQUOT, SQLite's SQLITE_FULL, or a store's message saying so (DuckDB, PostgreSQL's disk_full).</summary>
    public static bool IsStorageFull(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is StorageFullException
                || (e is IOException && (e.HResult is 28 or 122 || (e.HResult & 0xFFFF) == 0x70)) // ENOSPC, EDQUOT; ERROR_DISK_FULL
                || (e.GetType().Name == "SqliteException" && e.Message.Contains("database or disk is full", StringComparison.OrdinalIgnoreCase))
                || e.Message.Contains("No space left on device", StringComparison.OrdinalIgnoreCase)
                || e.Message.Contains("Disk quota exceeded", StringComparison.OrdinalIgnoreCase)
                || e.Message.Contains("53100", StringComparison.Ordinal) && e.GetType().Name == "PostgresException")
            {
                return true;
            }
        }
        return false;
    }

    public const string Advice = "the disk holding Strata's data is full: nothing of this request was kept; free space and retry";
}
