using Strata.Events.Embedded;
using Strata.Testing;

namespace Strata.Events.Tests;

public sealed class EmbeddedTopicReadTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    /// <summary>Asking about a topic nobody published to (GET .../topics/X/groups, GET /consumers?topic=X) created its
    /// log directory (issue 24): a read changes nothing now.</summary>
    [Fact]
    public async Task Describe_ATopicWithNoLog_IsEmpty_AndCreatesNothing()
    {
        var root = Path.Combine(_folder.Path, "log");
        await using var log = new EmbeddedEventLog(root, new EmbeddedLogOptions(), TimeProvider.System);

        Assert.Empty(await log.DescribeAsync("never.published"));

        Assert.False(Directory.Exists(Path.Combine(root, "never.published")));
        Assert.Empty(log.Topics());
        await Assert.ThrowsAsync<ArgumentException>(async () => await log.DescribeAsync("../escape"));
    }
}
