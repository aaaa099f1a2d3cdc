using Strata.Contracts.Tracking;
using Strata.Testing;
using Strata.Training.Jobs;

namespace Strata.Training.Tests;

/// <summary>A crash during a training left its run RUNNING forever (issue 24): the next start closes the runs a previous
/// process left open as FAILED, saying why, and leaves alone a run that had ended before the process died.</summary>
public sealed class OpenRunsTests
{
    [Fact]
    public async Task RunsLeftOpenByAStoppedProcess_AreFailedAtTheNextStart()
    {
        using var folder = new TempFolder();
        var configuration = new Dictionary<string, string?> { ["Strata:DataDirectory"] = folder.Path };
        string interrupted, ended;
        await using (var first = await InProcessModules.StartAsync(configuration: configuration))
        {
            var tracking = first.Get<ITrackingClient>();
            var experiment = await tracking.EnsureExperimentAsync("crash");
            interrupted = (await tracking.CreateRunAsync(experiment, "interrupted", [new KeyValue("strata.model", "crash")])).Info.RunId;
            ended = (await tracking.CreateRunAsync(experiment, "ended", [new KeyValue("strata.model", "crash")])).Info.RunId;
            var journal = first.Get<OpenRuns>();
            journal.Opened(interrupted);
            journal.Opened(ended);
            // The process recorded this run's end and died before removing its journal entry.
            await tracking.UpdateRunAsync(ended, RunStatus.Finished, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        }
        var open = Path.Combine(folder.Path, "training", "open-runs");
        Assert.Equal(2, Directory.GetFiles(open).Length);

        await using var second = await InProcessModules.StartAsync(configuration: configuration);
        var again = second.Get<ITrackingClient>();
        var closed = await Eventually.ValueAsync(() => again.GetRunAsync(interrupted), r => r.Info.Status == RunStatus.Failed,
            TimeSpan.FromSeconds(10), "the interrupted run closed");
        Assert.NotNull(closed.Info.EndTime);
        Assert.Contains(closed.Data.Tags!, t => t.Key == OpenRuns.FailureTag && t.Value.Contains("stopped", StringComparison.Ordinal));
        Assert.Equal(RunStatus.Finished, (await again.GetRunAsync(ended)).Info.Status);
        await Eventually.ValueAsync(() => Task.FromResult(Directory.GetFiles(open).Length), n => n == 0, TimeSpan.FromSeconds(10), "the journal emptied");
    }

    [Fact]
    public async Task ATrainingThatEnds_LeavesNoJournalEntry()
    {
        await using var modules = await InProcessModules.StartAsync();
        var dataset = await modules.Get<Contracts.Data.IDataClient>().IngestCsvAsync(Samples.SampleDataset.Name,
            new MemoryStream(System.Text.Encoding.UTF8.GetBytes(Samples.SampleDataset.Csv(2000))), new Contracts.Data.CleaningRules(true, [Contracts.Data.RowFilter.Parse("age > 0")]));
        await modules.Get<Contracts.Training.ITrainingClient>().TrainAsync(new Contracts.Training.TrainingRequest
        {
            DatasetId = dataset.Id, Trees = 10, Alias = null,
            Search = new Contracts.Training.SearchSpace { Trees = [5, 10] },
        });
        var open = Path.Combine(modules.Folder.Path, "training", "open-runs");
        Assert.Empty(Directory.Exists(open) ? Directory.GetFiles(open) : []);
    }
}
