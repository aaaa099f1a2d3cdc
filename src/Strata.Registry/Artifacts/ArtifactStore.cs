using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Strata.Contracts.Errors;
using Strata.Contracts.Registry;

namespace Strata.Registry.Artifacts;

/// <summary>Content-addressed artifact files: <c>sha256/ab/cdef...</c>. Written through a temp file and an atomic
/// rename (never half-written), verified against their hash on every read (never served corrupted).</summary>
public sealed partial class ArtifactStore
{
    private readonly string _root;

    /// <summary>An upload's temp file not written to for this long is an upload that died with its process.</summary>
    public static readonly TimeSpan AbandonedAfter = TimeSpan.FromMinutes(10);

    public ArtifactStore(string root, TimeProvider? time = null)
    {
        _root = Path.Combine(root, "sha256");
        Directory.CreateDirectory(_root);
        RemoveAbandonedUploads((time ?? TimeProvider.System).GetUtcNow());
    }

    /// <summary>Deletes the temp files of uploads a crash interrupted (issue 24: they stayed forever). One still being
    /// written (by another process on the same folder) is left alone: its file was written to recently.</summary>
    public int RemoveAbandonedUploads(DateTimeOffset now)
    {
        var removed = 0;
        foreach (var file in Directory.EnumerateFiles(_root, ".incoming-*"))
        {
            try
            {
                if (now - File.GetLastWriteTimeUtc(file) > AbandonedAfter)
                {
                    File.Delete(file);
                    removed++;
                }
            }
            catch (IOException)
            {
                // Gone meanwhile, or held open: not abandoned.
            }
        }
        return removed;
    }

    /// <param name="allowEmpty">Whether an empty file is a valid artifact (a file of a run's artifacts may be; a model is never).</param>
    public async Task<ArtifactRef> PutAsync(Stream content, CancellationToken cancellationToken, bool allowEmpty = false)
    {
        var temp = Path.Combine(_root, $".incoming-{Guid.NewGuid():N}");
        try
        {
            long size;
            string sha;
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
            {
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                var buffer = new byte[1 << 16];
                int read;
                while ((read = await content.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    hash.AppendData(buffer, 0, read);
                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                }
                await file.FlushAsync(cancellationToken);
                file.Flush(flushToDisk: true);
                size = file.Length;
                sha = Convert.ToHexStringLower(hash.GetHashAndReset());
            }
            if (size == 0 && !allowEmpty)
            {
                throw new InputValidationException("body", "an artifact upload needs a non-empty body (this one was empty, e.g. a chunked upload of nothing)");
            }
            var final = PathOf(sha);
            Directory.CreateDirectory(Path.GetDirectoryName(final)!);
            if (File.Exists(final))
            {
                File.Delete(temp);
            }
            else
            {
                File.Move(temp, final, overwrite: true);
            }
            return new ArtifactRef(sha, size);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    public bool Exists(string sha256) => IsValidHash(sha256) && File.Exists(PathOf(sha256));

    /// <summary>The artifact as a stream after checking its hash (read once to verify, then served from disk: memory
    /// does not grow with its size, and a corrupted file is refused before a byte is sent).</summary>
    public async Task<FileStream> OpenVerifiedAsync(string sha256, CancellationToken cancellationToken)
    {
        var stream = OpenRead(sha256);
        try
        {
            var actual = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
            if (!string.Equals(actual, sha256, StringComparison.Ordinal))
            {
                throw new DependencyUnavailableException("artifact store", $"artifact {sha256} is corrupted (its content hashes to {actual}); refusing to serve it");
            }
            stream.Position = 0;
            return stream;
        }
        catch
        {
            await stream.DisposeAsync();
            throw;
        }
    }

    /// <summary>The artifact's bytes as a stream (for downloads: not read into memory, seekable for range requests).</summary>
    public FileStream OpenRead(string sha256)
    {
        ValidateHash(sha256);
        var path = PathOf(sha256);
        return File.Exists(path)
            ? new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true)
            : throw new ResourceNotFoundException("artifact", sha256);
    }

    public async Task<byte[]> ReadVerifiedAsync(string sha256, CancellationToken cancellationToken)
    {
        ValidateHash(sha256);
        var path = PathOf(sha256);
        if (!File.Exists(path))
        {
            throw new ResourceNotFoundException("artifact", sha256);
        }
        var bytes = await File.ReadAllBytesAsync(path, cancellationToken);
        var actual = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (!string.Equals(actual, sha256, StringComparison.Ordinal))
        {
            throw new DependencyUnavailableException("artifact store",
                $"artifact {sha256} is corrupted (its content hashes to {actual}); refusing to serve it");
        }
        return bytes;
    }

    public static void ValidateHash(string sha256, string field = "sha256")
    {
        if (!IsValidHash(sha256))
        {
            throw new InputValidationException(field, "must be 64 lowercase hex characters (a sha256)");
        }
    }

    private static bool IsValidHash(string sha256) => sha256 is not null && HashPattern().IsMatch(sha256);

    private string PathOf(string sha) => Path.Combine(_root, sha[..2], sha[2..]);

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex HashPattern();
}
