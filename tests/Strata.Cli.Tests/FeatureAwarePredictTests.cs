using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Strata.Contracts.Events;

namespace Strata.Cli.Tests;

/// <summary><c>/predict</c> with only an entity key: serving fetches the model's features from the feature store.</summary>
public sealed class FeatureAwarePredictTests(MonolithFixture fixture) : IClassFixture<MonolithFixture>
{
    private HttpClient Http => fixture.Http;

    private async Task PushProfilesAsync(long[] users, double[] ages, double[] incomes)
    {
        using var response = await Http.PostAsJsonAsync("/api/features/push", new
        {
            push_source_name = "user_profiles",
            df = new Dictionary<string, object[]>
            {
                ["user_id"] = [.. users.Cast<object>()],
                ["event_timestamp"] = [.. users.Select(_ => (object)DateTimeOffset.UtcNow.ToString("O"))],
                ["age"] = [.. ages.Cast<object>()],
                ["income"] = [.. incomes.Cast<object>()],
            },
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private async Task<(HttpStatusCode Status, JsonElement Body)> PredictAsync(object body)
    {
        using var response = await Http.PostAsJsonAsync("/predict", body);
        return (response.StatusCode, await response.Content.ReadFromJsonAsync<JsonElement>());
    }

    [Fact]
    public async Task Predict_UserIdOnly_EqualsPredictingWithTheUsersFeatures()
    {
        await PushProfilesAsync([7001, 7002], [35, 61], [50000, 120000]);

        var (status, byUser) = await PredictAsync(new { user_id = 7001 });
        var (_, byInputs) = await PredictAsync(new { age = 35, income = 50000 });
        var (batchStatus, batch) = await PredictAsync(new[] { new { user_id = 7002 }, new { user_id = 7001 } });
        var (_, other) = await PredictAsync(new { age = 61, income = 120000 });

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(byInputs.GetProperty("prediction").GetDouble(), byUser.GetProperty("prediction").GetDouble());
        Assert.Equal(byInputs.GetProperty("model_version").GetString(), byUser.GetProperty("model_version").GetString());
        Assert.Equal(HttpStatusCode.OK, batchStatus);
        Assert.Equal([other.GetProperty("prediction").GetDouble(), byInputs.GetProperty("prediction").GetDouble()],
            batch.GetProperty("predictions").EnumerateArray().Select(p => p.GetDouble()));
    }

    [Fact]
    public async Task Predict_UserIdOnly_IsInThePredictionLogWithTheFeaturesUsed()
    {
        await PushProfilesAsync([7004], [52], [70000]);
        var logged = new TaskCompletionSource<JsonElement>();
        await using var subscription = await fixture.App.Services.GetRequiredService<IEventSubscriber>().SubscribeAsync(EventTopics.PredictionMade, "feature-aware-test", (e, _) =>
        {
            var data = e.Data.Clone();
            if (data.GetProperty("features").TryGetProperty("age", out var age) && age.GetDouble() == 52)
            {
                logged.TrySetResult(data);
            }
            return Task.CompletedTask;
        });

        var (status, _) = await PredictAsync(new { user_id = 7004 });
        var record = await logged.Task.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(52.0 * 52.0, record.GetProperty("features").GetProperty("age_squared").GetDouble());
        using var live = await Http.GetAsync("/health/live");
        Assert.Equal(HttpStatusCode.OK, live.StatusCode); // the log kept running, and so did the host
    }

    [Fact]
    public async Task Predict_RequestTimeFieldsOverrideTheStoredOnes()
    {
        await PushProfilesAsync([7003], [40], [10000]);

        var (_, mixed) = await PredictAsync(new { user_id = 7003, income = 90000 });
        var (_, byInputs) = await PredictAsync(new { age = 40, income = 90000 });

        Assert.Equal(byInputs.GetProperty("prediction").GetDouble(), mixed.GetProperty("prediction").GetDouble());
    }

    [Fact]
    public async Task Predict_UnknownUser_Is404_BadUserId_Is400()
    {
        var (unknown, problem) = await PredictAsync(new { user_id = 999_999 });
        var (badType, typeProblem) = await PredictAsync(new { user_id = "seven" });
        var (noKey, missing) = await PredictAsync(new { age = 35 });

        Assert.Equal(HttpStatusCode.NotFound, unknown);
        Assert.Contains("user_id=999999", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, badType);
        Assert.Equal("user_id", typeProblem.GetProperty("field").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, noKey);
        Assert.Equal("income", missing.GetProperty("field").GetString());
    }
}
