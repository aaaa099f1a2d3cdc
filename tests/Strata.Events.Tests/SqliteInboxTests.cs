using Microsoft.Extensions.Time.Testing;
using Strata.Events.Inbox;
using Strata.Testing;

namespace Strata.Events.Tests;

public sealed class SqliteInboxTests
{
    [Fact]
    public async Task Commits_NeverCheckpoint_TheBackgroundCheckpointerDoes_AndNothingIsLost()
    {
        using var folder = new TempFolder();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var path = Path.Combine(folder.Path, "inbox.db");
        var ids = Enumerable.Range(0, 3000).Select(i => $"{i:D6}-{Guid.NewGuid():N}").ToArray();
        using (var inbox = new SqliteInbox(path, time, TimeSpan.FromDays(1)))
        {
            // 3,000 commits: SQLite's automatic checkpoint (at 1,000 WAL pages) would have copied pages into the file
            // on one of them, making that commit wait for the disk.
            foreach (var id in ids)
            {
                await inbox.RecordAsync("g", [id]);
            }
            var walBytes = new FileInfo(path + "-wal").Length;
            var fileBytes = new FileInfo(path).Length;
            Assert.True(walBytes > 1000 * 4096, $"WAL {walBytes} bytes: checkpointed during commits");
            Assert.True(fileBytes < 64 * 1024, $"database file {fileBytes} bytes: checkpointed during commits");

            time.Advance(SqliteInbox.CheckpointInterval);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (new FileInfo(path).Length == fileBytes && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }
            Assert.True(new FileInfo(path).Length > fileBytes, "the background checkpoint did not run");
            Assert.Equal(ids.Length, (await inbox.SeenAsync("g", ids)).Count);
        }
        // Closed (its last checkpoint truncates the WAL) and opened again: every id is still there.
        Assert.Equal(0, new FileInfo(path + "-wal") is { Exists: true } wal ? wal.Length : 0);
        using var reopened = new SqliteInbox(path, time, TimeSpan.FromDays(1));
        Assert.Equal(ids.Length, (await reopened.SeenAsync("g", ids)).Count);
        Assert.Empty(await reopened.SeenAsync("other", ids));
    }
}
