import { Link, useLocation } from 'react-router';
import { EmptyState } from '../common/ui';

export function NotFoundPage() {
  const location = useLocation();
  return (
    <EmptyState title="No such page" action={<Link to="/runs">Go to the runs</Link>}>
      Nothing lives at <code>{location.pathname}</code>.
    </EmptyState>
  );
}
