using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using Strata.Contracts;
using Strata.Contracts.Security;
using Strata.Testing;

namespace Strata.EndToEnd.Tests;

/// <summary>The dashboard in a real browser (Playwright driving Debian's chromium), in each topology, against a running
/// Strata with real data: signing in with a key, pages rendering what the API returns, charts drawn, promote and roll
/// back moving <c>champion</c>, a reader refused the same action; no page logs a script error or a policy violation.
/// Screenshots go to <c>TestResults/dashboard/</c>.</summary>
public static class DashboardScenarioTests
{
    private const string Chromium = "/usr/bin/chromium";

    /// <summary>Runs against <paramref name="up"/>, started with <c>Strata__Dashboard__SampleInterval</c> short, after the
    /// tracing scenario trained a second version of <c>seed</c>.</summary>
    public static async Task BrowseAsync(StrataUp up, string topology)
    {
        if (!File.Exists(Chromium))
        {
            throw new InvalidOperationException($"{Chromium} is missing: apt-get install -y chromium (.ci/run installs it)");
        }
        var shots = Path.Combine(StrataExecutable.RepositoryRoot, "TestResults", "dashboard");
        Directory.CreateDirectory(shots);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        });
        var errors = new List<string>();
        await using var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = up.Http.BaseAddress!.ToString(),
            ViewportSize = new ViewportSize { Width = 1360, Height = 1000 },
        });
        var page = await context.NewPageAsync();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                errors.Add(message.Text);
            }
        };
        page.PageError += (_, error) => errors.Add(error);

        // No session: the page asked for comes back after signing in.
        await page.GotoAsync("/ui/models/seed");
        Assert.Contains("/ui/sign-in", page.Url, StringComparison.Ordinal);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(shots, $"{topology}-sign-in.png") });
        await page.FillAsync("#key", up.ApiKey);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync("**/ui/models/seed");

        // The versions the API lists, one row each; the champion the API names.
        var versions = (await up.Http.GetFromJsonAsync<JsonElement>("/api/registry/models/seed/versions", StrataJson.Options)).EnumerateArray()
            .Select(v => v.GetProperty("version").GetInt32()).ToList();
        Assert.True(versions.Count >= 2, $"the tracing scenario trains a second version first; seed has {versions.Count}");
        foreach (var version in versions)
        {
            Assert.Equal(1, await page.Locator($"tr[data-version=\"{version}\"]").CountAsync());
        }
        var champion = await ChampionAsync(up);
        Assert.Equal($"champion → v{champion}", await page.Locator("[data-testid=alias-champion]").InnerTextAsync());

        // Promote another version from the page: the alias moves (the API says so); then roll back the same way.
        var other = versions.First(v => v != champion);
        await page.ClickAsync($"[data-testid=champion-{other}]");
        await page.WaitForURLAsync("**/ui/models/seed?changed=*");
        Assert.Contains($"version {other}", await page.Locator("[data-testid=changed]").InnerTextAsync(), StringComparison.Ordinal);
        Assert.Equal(other, await ChampionAsync(up));
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(shots, $"{topology}-model.png"), FullPage = true });
        await page.ClickAsync($"[data-testid=champion-{champion}]");
        await page.WaitForURLAsync("**/ui/models/seed?changed=*");
        Assert.Equal(champion, await ChampionAsync(up));

        // The overview's charts draw from the front door's metrics (sampled every second here) once traffic has passed.
        for (var i = 0; i < 20; i++)
        {
            using var predicted = await up.Http.PostAsJsonAsync("/predict", new { age = 30 + i, income = 40000 + (i * 1000) });
            Assert.Equal(HttpStatusCode.OK, predicted.StatusCode);
        }
        await Eventually.ValueAsync(async () =>
        {
            await page.GotoAsync("/ui");
            return await page.Locator("figure[data-chart=\"Requests per second\"][data-drawn=true] canvas").CountAsync();
        }, n => n > 0, TimeSpan.FromSeconds(15), "the requests chart drawn");
        Assert.Equal("Healthy", await page.Locator("[data-testid=health]").InnerTextAsync());
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(shots, $"{topology}-overview.png"), FullPage = true });

        // Runs: the runs MLflow's search returns are listed; one run's page shows its metrics.
        using var search = await up.Http.PostAsJsonAsync("/api/2.0/mlflow/runs/search", new { experiment_ids = new[] { "0", "1", "2", "3", "4" }, max_results = 100 });
        var runs = (await search.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("info").GetProperty("run_id").GetString()!).ToList();
        Assert.NotEmpty(runs);
        await page.GotoAsync("/ui/runs");
        foreach (var run in runs)
        {
            Assert.Equal(1, await page.Locator($"a[href=\"/ui/runs/{run}\"]").CountAsync());
        }
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(shots, $"{topology}-runs.png"), FullPage = true });
        await page.ClickAsync($"a[href=\"/ui/runs/{runs[0]}\"]");
        Assert.True(await page.Locator("[data-testid=metrics] tbody tr").CountAsync() > 0);

        // Each page shows what its API lists.
        foreach (var (path, name, rows, api) in new[]
        {
            ("/ui/features", "features", "[data-testid=views] tbody tr", "/api/features/views"),
            ("/ui/events", "events", "[data-testid=consumers] tbody tr", "/api/events/consumers"),
            ("/ui/monitoring?model=seed&window=1h", "monitoring", "[data-testid=performance] tbody tr", null),
        })
        {
            var response = await page.GotoAsync(path);
            Assert.Equal(200, response!.Status);
            var shown = await page.Locator(rows).CountAsync();
            Assert.True(shown > 0, $"{path} shows no rows");
            if (api is not null)
            {
                Assert.Equal((await up.Http.GetFromJsonAsync<JsonElement>(api, StrataJson.Options)).GetArrayLength(), shown);
            }
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(shots, $"{topology}-{name}.png"), FullPage = true });
        }
        Assert.Empty(errors);

        // A reader sees no promote button, and the action itself is refused: the alias stays.
        using var created = await up.Http.PostAsJsonAsync(SecurityRoutes.Keys, new NewApiKey("dashboard-reader", ["reader"]), StrataJson.Options);
        var reader = (await created.Content.ReadFromJsonAsync<CreatedApiKey>(StrataJson.Options))!.Key;
        await using var readerContext = await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = up.Http.BaseAddress!.ToString() });
        var readerPage = await readerContext.NewPageAsync();
        await readerPage.GotoAsync("/ui/sign-in?next=%2Fui%2Fmodels%2Fseed");
        await readerPage.FillAsync("#key", reader);
        await readerPage.ClickAsync("button[type=submit]");
        await readerPage.WaitForURLAsync("**/ui/models/seed");
        Assert.Equal(0, await readerPage.Locator("[data-testid^=champion-]").CountAsync());
        Assert.Equal(0, await readerPage.Locator("nav a[href=\"/ui/events\"]").CountAsync());
        var token = await readerPage.Locator("input[name=__strata_form]").First.GetAttributeAsync("value");
        var refused = await readerPage.APIRequest.PostAsync("/ui/models/seed/aliases/champion", new APIRequestContextOptions
        {
            Form = readerContext.APIRequest.CreateFormData().Set("version", other.ToString(System.Globalization.CultureInfo.InvariantCulture)).Set("__strata_form", token!),
            Headers = new Dictionary<string, string> { ["Accept"] = "text/html" },
        });
        Assert.Equal(403, refused.Status);
        Assert.Equal(champion, await ChampionAsync(up));
        await readerPage.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(shots, $"{topology}-reader.png") });
    }

    /// <summary>Sign-in through the OpenID Connect provider Strata was started with (<see cref="OidcProvider"/>: a real
    /// one, on loopback): its login and consent pages, back to the page asked for, roles from the id token; a user
    /// whose token names no role is signed in and may read nothing; signing out ends the session.</summary>
    public static async Task SignInWithProviderAsync(StrataUp up, string topology)
    {
        var shots = Path.Combine(StrataExecutable.RepositoryRoot, "TestResults", "dashboard");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        });
        async Task<IPage> SignInAsync(string login, string path)
        {
            var context = await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = up.Http.BaseAddress!.ToString() });
            var page = await context.NewPageAsync();
            await page.GotoAsync(path);
            await page.ClickAsync("[data-testid=oidc]");
            await page.WaitForURLAsync("**/interaction/**");
            await page.FillAsync("input[name=login]", login);
            await page.FillAsync("input[name=password]", "any");
            await page.ClickAsync("button[type=submit]");
            // Consent for the client, the first time.
            await page.Locator("input[name=prompt][value=consent]").WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Attached });
            await page.ClickAsync("button[type=submit]");
            await page.WaitForURLAsync(url => url.StartsWith(up.Http.BaseAddress!.ToString(), StringComparison.Ordinal) && !url.Contains("/ui/sign-in", StringComparison.Ordinal));
            return page;
        }

        var alice = await SignInAsync("alice", "/ui/models/seed");
        Assert.EndsWith("/ui/models/seed", alice.Url, StringComparison.Ordinal);
        Assert.Equal("alice", await alice.Locator("[data-testid=user]").InnerTextAsync());
        Assert.True(await alice.Locator("[data-testid^=champion-]").CountAsync() > 0, "a model-admin from the provider may promote");
        await alice.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(shots, $"{topology}-oidc-model-admin.png") });

        var rita = await SignInAsync("rita", "/ui/models/seed");
        Assert.Equal(0, await rita.Locator("[data-testid^=champion-]").CountAsync());

        var nobody = await SignInAsync("nobody", "/ui/runs");
        Assert.Contains("needs the permission read", await nobody.Locator("[data-testid=error]").InnerTextAsync(), StringComparison.Ordinal);

        // Signing out ends the session: the next page asks to sign in again.
        await alice.ClickAsync("form.who button[type=submit]");
        await alice.WaitForURLAsync("**/ui/sign-in");
        await alice.GotoAsync("/ui/models");
        Assert.Contains("/ui/sign-in", alice.Url, StringComparison.Ordinal);
    }

    private static async Task<int> ChampionAsync(StrataUp up) =>
        (await up.Http.GetFromJsonAsync<JsonElement>("/api/registry/models/seed/aliases/champion", StrataJson.Options)).GetProperty("version").GetInt32();
}
