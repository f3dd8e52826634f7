/// The dashboard's one page template. Styles are inline so the page needs nothing else to look right, and it
/// has no script: charts are SVG drawn on the server.
enum DashboardTemplate {
    static let page = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · Ciclo</title>
        <style>
        body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #222; background: #f6f7f9; }
        header { background: #1f2d3d; color: #fff; padding: 10px 20px; }
        header a { color: #cfe3ff; margin-right: 14px; text-decoration: none; }
        main { padding: 16px 20px; max-width: 1400px; }
        h1 { font-size: 20px; margin: 4px 0 2px; } h2 { font-size: 15px; margin: 18px 0 6px; }
        .period { color: #666; margin-bottom: 12px; }
        .cards { display: flex; flex-wrap: wrap; gap: 10px; }
        .card { background: #fff; border: 1px solid #dde; border-radius: 6px; padding: 8px 12px; min-width: 120px; }
        .card .label { color: #666; font-size: 12px; } .card .value { font-size: 20px; font-weight: 600; }
        .card .note { color: #888; font-size: 11px; }
        .statement { background: #fffbe6; border-left: 3px solid #e0b400; padding: 6px 10px; margin: 8px 0; }
        .charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 12px; margin-top: 12px; }
        .charts > div { background: #fff; border: 1px solid #dde; border-radius: 6px; padding: 6px; }
        svg.chart { width: 100%; height: auto; }
        table { border-collapse: collapse; background: #fff; margin-bottom: 8px; }
        th, td { border: 1px solid #dde; padding: 4px 8px; text-align: right; }
        th:first-child, td:first-child { text-align: left; }
        </style>
        </head>
        <body>
        <header><strong>Ciclo</strong> &nbsp; {{#navigation}}<a href="{{href}}">{{title}}</a>{{/navigation}}</header>
        <main>
        <h1>{{title}}</h1>
        <div class="period">{{period}}</div>
        <section class="cards">{{#cards}}<div class="card"><div class="label">{{label}}</div><div class="value">{{value}}</div>{{#note}}<div class="note">{{note}}</div>{{/note}}</div>{{/cards}}</section>
        {{#statements}}<p class="statement">{{text}}</p>{{/statements}}
        <section class="charts">{{#charts}}<div>{{{svg}}}</div>{{/charts}}</section>
        {{#tables}}
        <h2>{{title}}</h2>
        <table><thead><tr>{{#headers}}<th>{{text}}</th>{{/headers}}</tr></thead>
        <tbody>{{#rows}}<tr>{{#cells}}<td>{{#href}}<a href="{{href}}">{{text}}</a>{{/href}}{{^href}}{{text}}{{/href}}</td>{{/cells}}</tr>{{/rows}}</tbody></table>
        {{/tables}}
        </main>
        </body>
        </html>

        """
}
