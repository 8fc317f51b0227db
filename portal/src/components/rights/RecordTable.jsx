// One kind of information in the patient's record as a captioned table (a caption, column headers, one row each),
// or a sentence saying there is none.
export default function RecordTable({ caption, columns, rows, empty }) {
  if (!rows.length) {
    return (
      <p className="rights-empty">
        <strong>{caption}:</strong> {empty}
      </p>
    );
  }
  return (
    <div className="rights-table-wrap">
      <table className="rights-table">
        <caption>{caption}</caption>
        <thead>
          <tr>
            {columns.map((column) => (
              <th key={column} scope="col">
                {column}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map(({ key, cells }) => (
            <tr key={key}>
              {cells.map((cell, index) =>
                index === 0 ? (
                  <th key={index} scope="row">
                    {cell}
                  </th>
                ) : (
                  <td key={index}>{cell}</td>
                ),
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
